/* fuzz_config.c: libFuzzer target for the configuration parser: any bytes give EX_OK or
 * EX_CONFIG with a message, never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c = {0};
	struct diag d = {0};
	int rc = config_parse(&c, "fuzz", (const char *)data, size, &d);
	if (rc != EX_OK && (rc != EX_CONFIG || !d.msg[0]))
		abort();
	config_free(&c);
	return 0;
}
