/* SPDX-License-Identifier: ISC */
/* authorize.c: postie --authorize: an account's first OAuth2 tokens (device or client-credentials
 * grant), stored in its state. It prints the code to enter and never a token or secret. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "log.h"
#include "oauth2.h"
#include "submit.h"

/* What the person has to do, on stdout: where to go, what to enter. */
static void show_device_code(const struct oauth2_client *c, const struct oauth2_device *dev)
{
	struct buf uri = {0}, code = {0}, complete = {0};
	/* the endpoint's words reach a terminal: escaped like every other line */
	buf_put_escaped(&uri, dev->verification_uri);
	buf_put_escaped(&code, dev->user_code);
	printf("To authorize account '%s', open %s\nand enter the code %s\n", c->account,
	       uri.data, code.data);
	if (dev->verification_uri_complete) {
		buf_put_escaped(&complete, dev->verification_uri_complete);
		printf("(or open %s, which holds the code)\n", complete.data);
	}
	printf("Waiting for the authorization (it expires in %ld seconds)...\n", dev->expires_in);
	fflush(stdout);
	buf_free(&uri);
	buf_free(&code);
	buf_free(&complete);
}

int app_authorize(const struct cli_opts *o, struct diag *d)
{
	struct config cfg = {0};
	struct oauth2_client c = {0};
	struct oauth2_device dev = {0};
	struct oauth2_token t = {0};
	bool curl_up = false;
	int rc = config_load(&cfg, o->config_file, d);
	const struct account *a = rc == EX_OK ? config_pick(&cfg, o->account, NULL, d) : NULL;
	if (rc == EX_OK && !a)
		rc = d->code;
	/* before a person is asked for anything: the system's state is root's to write */
	if (rc == EX_OK && a->oauth2_system && geteuid() != 0)
		rc = diag_set(d, EX_NOPERM, "account '%s' is the system file's: its tokens are the "
			      "system's; run postie --authorize --account %s as root",
			      a->name ? a->name : "default", a->name ? a->name : "default");
	if (rc == EX_OK) {
		log_set_transcript(o->verbose, NULL);
		rc = oauth2_client_open(a, true, &c, d);
	}
	if (rc == EX_OK && (rc = submit_global_init(d)) == EX_OK)
		curl_up = true;
	if (rc == EX_OK && c.grant == OAUTH2_GRANT_DEVICE) {
		rc = oauth2_device_start(&c, &dev, d);
		if (rc == EX_OK) {
			show_device_code(&c, &dev);
			rc = oauth2_device_poll(&c, &dev, &t, d);
		}
	} else if (rc == EX_OK) {
		rc = oauth2_client_credentials(&c, &t, d);
	}
	if (rc == EX_OK)
		rc = oauth2_store(&c, &t, d);
	if (rc == EX_OK)
		printf("Authorized: account '%s', tokens stored in %s (the access token expires in "
		       "%lld seconds)\n", c.account, c.state_path,
		       (long long)(t.expires_at - t.obtained_at));
	if (curl_up)
		submit_global_cleanup();
	log_set_transcript(false, NULL);
	oauth2_token_clear(&t);
	oauth2_device_clear(&dev);
	oauth2_client_close(&c);
	config_free(&cfg);
	return rc;
}
