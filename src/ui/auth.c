/* Who may read the dashboard. On loopback (the default), the machine's own
 * users, through a loopback host name; anywhere else, whoever holds the token
 * printed at start-up (docs/UI.md, "Security"). */
#include "ui/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int sw_ui_address_is_loopback(const char *addr)
{
    unsigned char b[16];
    if (!addr) return 0;
    if (inet_pton(AF_INET, addr, b) == 1) return b[0] == 127;
    if (inet_pton(AF_INET6, addr, b) != 1) return 0;
    static const unsigned char one[16] = {[15] = 1};
    static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
    return !memcmp(b, one, 16) || (!memcmp(b, mapped, 12) && b[12] == 127);
}

int sw_ui_host_is_loopback(const char *host)
{
    char name[256];
    if (!host || !*host || strlen(host) >= sizeof name) return 0;
    snprintf(name, sizeof name, "%s", host);
    char *addr = name, *port = NULL;
    if (name[0] == '[') { /* [::1] or [::1]:8765 */
        char *close = strchr(name, ']');
        if (!close) return 0;
        *close = 0;
        if (close[1] == ':') port = close + 2;
        else if (close[1]) return 0;
        addr = name + 1;
    } else { /* localhost, 127.0.0.1, with or without :PORT */
        char *colon = strchr(name, ':');
        if (colon && strchr(colon + 1, ':')) return 0; /* an IPv6 address needs its brackets */
        if (colon) {
            *colon = 0;
            port = colon + 1;
        }
    }
    if (port) {
        if (!*port) return 0;
        for (const char *c = port; *c; c++)
            if (*c < '0' || *c > '9') return 0;
    }
    for (char *c = addr; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    return !strcmp(addr, "localhost") || sw_ui_address_is_loopback(addr);
}

sw_status sw_ui_token_make(char token[65], sw_error *err)
{
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return sw_error_set(err, SW_ERR_IO, "ui: no random bytes for the access token: %s", strerror(errno));
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        token[2 * i] = hex[raw[i] >> 4];
        token[2 * i + 1] = hex[raw[i] & 15];
    }
    token[64] = 0;
    return SW_OK;
}

int sw_ui_token_equal(const char *given, const char *token)
{
    if (!given || !token) return 0;
    size_t n = strlen(token), m = strlen(given);
    unsigned char diff = (unsigned char)(n != m);
    /* every byte of the token is compared whatever matched before, so the
     * answer's timing says nothing about a prefix */
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(token[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}
