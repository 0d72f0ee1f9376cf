# SPDX-License-Identifier: ISC
# fish completion for postie(1)
# Offers postie's options, file names after -C, --config and -X, and after --account the account
# names of the configuration files. Recipients and other values get nothing: the shell cannot
# know them. Keep the options in step with `postie --help`; tests/completions.bats compares them.

# The account names of the files postie would read: the -C or --config file of the command line,
# else $POSTIE_CONFIG, else the user's file; then the system file in its two usual places.
function __postie_accounts
    set -l conf
    set -l words (commandline -opc)
    set -l i 2
    while test $i -le (count $words)
        switch $words[$i]
            case -C --config
                set conf $words[(math $i + 1)]
            case '--config=*'
                set conf (string replace -- --config= '' $words[$i])
            case '-C*'
                set conf (string sub -s 3 -- $words[$i])
        end
        set i (math $i + 1)
    end
    set -l files
    if test -n "$conf"
        set files (string replace -r -- '^~/' "$HOME/" $conf)
    else if set -q POSTIE_CONFIG; and test -n "$POSTIE_CONFIG"
        set files $POSTIE_CONFIG
    else if string match -q -- '/*' "$XDG_CONFIG_HOME"
        set files $XDG_CONFIG_HOME/postie/config
    else
        set files $HOME/.config/postie/config
    end
    set -a files /etc/postie.conf /usr/local/etc/postie.conf
    set -l readable
    for f in $files
        test -f $f -a -r $f; and set -a readable $f
    end
    test (count $readable) -gt 0; or return 0
    # "account NAME" lines; a name is letters, digits and -_.@+, maybe in double quotes
    awk '$1 == "account" && NF == 2 {
        name = $2
        gsub(/^"|"$/, "", name)
        if (name ~ /^[-A-Za-z0-9_.@+]+$/ && !seen[name]++)
            print name
    }' $readable 2>/dev/null
end

complete -c postie -f

complete -c postie -s t -d 'Also take recipients from To, Cc and Bcc'
complete -c postie -s i -d 'A line with a lone dot does not end the input'
complete -c postie -s f -l from -x -d 'Envelope sender (empty or <> for the null sender)'
complete -c postie -s r -x -d 'Envelope sender, same as -f'
complete -c postie -s F -x -d 'Full name in a generated From'
complete -c postie -s v -l verbose -d 'Print the SMTP transcript on stderr'
complete -c postie -s X -r -F -d 'Append the SMTP transcript to FILE'
complete -c postie -s C -l config -r -F -d 'Configuration file'
complete -c postie -s b -x -a 'm p s v i' -d 'Mode: m send (default), p queue, s SMTP, v verify, i aliases'
complete -c postie -s o -x -a 'i dq di db' -d 'Sendmail option: -oi is -i, -odq queues, -odi and -odb send now'
complete -c postie -s s -l subject -x -d 'Compose a message with this subject'
complete -c postie -s c -l cc -x -d 'Compose a message with this Cc recipient'
complete -c postie -l bcc -x -d 'Compose a message with this Bcc recipient'
complete -c postie -l to -x -d 'Compose a message with this To recipient'
complete -c postie -l help -d 'Show the options'
complete -c postie -l version -d 'Show versions and compiled-in paths'
complete -c postie -s q -d 'Attempt every queue entry now; -qI, -qR, -qS SUBSTR select (an interval is ignored)'
complete -c postie -l flush -d 'Attempt every queue entry now'
complete -c postie -l due -d 'With -q: only the entries whose retry time has come'
complete -c postie -l delete -d 'Delete these queue entries (queued or failed)'
complete -c postie -l requeue -d 'Put these entries of failed/ back into the queue'
complete -c postie -l json -d 'With -bp: list the queue as JSON'
complete -c postie -l account -x -a '(__postie_accounts)' -d 'Use this account of the configuration'
complete -c postie -l serverinfo -d 'Show what the relay offers and exit'
complete -c postie -l authorize -d 'Get and store the OAuth2 tokens of the account'
complete -c postie -s a -l attach -r -F -d 'Compose a message with FILE attached'
complete -c postie -l header -x -d 'Compose a message with this header field'
complete -c postie -l no-progress -d 'No progress line on a terminal'

# the aliases file
complete -c postie -s I -d 'Check the aliases file, as -bi'

# accepted for sendmail compatibility and ignored; see COMPATIBILITY in postie(1)
complete -c postie -s B -x -a '7BIT 8BITMIME' -d 'Body type (ignored)'
complete -c postie -s N -x -d 'DSN notify (ignored)'
complete -c postie -s R -x -d 'DSN return (ignored)'
complete -c postie -s V -x -d 'DSN envelope id (ignored)'
complete -c postie -s L -x -d 'Syslog tag (ignored)'
complete -c postie -s h -x -d 'Hop count (ignored)'
complete -c postie -s O -x -d 'Sendmail option (ignored)'
complete -c postie -s G -d 'Gateway submission (ignored)'
complete -c postie -s U -d 'Initial user submission (ignored)'
complete -c postie -s m -d 'Me too (ignored)'
complete -c postie -s n -d 'No aliasing (ignored)'
complete -c postie -s e -d 'Error mode (ignored)'
complete -c postie -s A -d 'Alternate configuration (ignored)'
