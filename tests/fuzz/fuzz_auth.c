/**
 * @file fuzz_auth.c  libFuzzer harness for the digest code that reads
 * network input: challenge values (auth_chall_decode, used when Tandem
 * authenticates to a trunk), credentials (sip_auth_decode) and their
 * verification, and the client response built from a hostile challenge.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct auth_chall ch;
	struct sip_auth cred;
	char out[2048];
	struct pl val = { (const char *)data, size };
	struct pl met = PL("REGISTER");

	if (!ready) {
		auth_init(30);
		ready = 1;
	}
	if (auth_chall_decode(&ch, &val) == 0)
		auth_client_response(out, sizeof(out), "Authorization", &val, "100-tfg",
				     "tf2020", "REGISTER", "sip:127.0.0.1", 1, "c0ffee");
	memset(&cred, 0, sizeof(cred));
	if (sip_auth_decode(&cred, &val) == 0) {
		auth_verify(&cred, &met, "tandem", "tf2020");
		auth_verify(&cred, &met, "tandem", NULL);
	}
	return 0;
}
