/* fuzz_address: any string typed as an address to block.  What is accepted
 * is one normal form: normalising it again gives it back unchanged.  The
 * same bytes as a range to block: accepted only in its normal form's
 * width, and the network formatted reads back the same.  The same bytes as
 * SSH_CONNECTION, where the operator's own address is read. */
#include "config.h"

#include <sys/socket.h>

#include "fuzz.h"
#include "ipaddr.h"
#include "iprange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	char out[IPADDR_LEN], again[IPADDR_LEN], err[256];

	if (ipaddr_normalize(in, out, sizeof out, err, sizeof err) == 0) {
		FUZZ_CHECK(ipaddr_normalize(out, again, sizeof again, err, sizeof err) == 0);
		FUZZ_CHECK(strcmp(out, again) == 0);
		enum ip_class c = ipaddr_class(out);
		FUZZ_CHECK(c >= IP_PUBLIC && c <= IP_BROADCAST && ipaddr_class_name(c));
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof err) && err[0]);
	}
	/* the same bytes as a range */
	struct ipnet net, back;
	char shown[IPNET_LEN];
	if (iprange_parse(in, &net, err, sizeof err) == 0) {
		FUZZ_CHECK(iprange_is_range(in));
		FUZZ_CHECK(net.prefix >= (net.family == AF_INET ? IPRANGE_WIDEST4 : IPRANGE_WIDEST6));
		ipnet_format(&net, shown, sizeof shown);
		FUZZ_CHECK(iprange_parse(shown, &back, err, sizeof err) == 0);
		FUZZ_CHECK(back.prefix == net.prefix && memcmp(back.addr, net.addr, sizeof net.addr) == 0);
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof err) && err[0]);
	}
	/* the same bytes as SSH_CONNECTION: the operator's own address */
	setenv("SSH_CONNECTION", in, 1);
	if (ipaddr_ssh_client(out, sizeof out))
		FUZZ_CHECK(ipaddr_normalize(out, again, sizeof again, err, sizeof err) == 0);
	free(in);
	return 0;
}
