/* SPDX-License-Identifier: ISC */
/* minimal.c: the yardstick: the least a libcurl SMTP submitter can do. It streams stdin as it
 * is (no line-ending conversion: give it CRLF input) to one recipient; libcurl dot-stuffs.
 *
 * usage: minimal URL FROM RCPT < message
 * build: cc -O2 minimal.c $(pkg-config --cflags --libs libcurl) */
#include <curl/curl.h>
#include <stdio.h>
#include <unistd.h>

static size_t read_stdin(char *buf, size_t size, size_t n, void *ud)
{
	(void)ud;
	ssize_t got = read(0, buf, size * n);
	return got < 0 ? CURL_READFUNC_ABORT : (size_t)got;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: minimal URL FROM RCPT < message\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	struct curl_slist *rcpt = curl_slist_append(NULL, argv[3]);
	curl_easy_setopt(c, CURLOPT_URL, argv[1]);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, argv[2]);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_stdin);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		fprintf(stderr, "minimal: %s\n", curl_easy_strerror(rc));
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return rc == CURLE_OK ? 0 : 1;
}
