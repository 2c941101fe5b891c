/*
 * route_id — the deterministic melding_id: a name-based UUID (RFC 4122
 * version 5: SHA-1 of a namespace and a name) of the cause event's
 * identity, the rule and the recipient, so a replay produces the same ids
 * and partners can de-duplicate on them. An event's identity is its bron
 * plus its event_id (two partners may use the same event_id), so both are
 * in the name:
 *
 *   name      = bron "|" event_id "|" regel "|" type ":" code
 *               e.g. "SWV:PO2801|3f1c2b7e-...|ONDERWIJS_BUITEN_WOONGEMEENTE|GEMEENTE:GM0502"
 *   namespace = ROUTE_ID_NAMESPACE, itself the version-5 UUID of the URL
 *               https://ketenhub.nl/grensverkeer/melding in the RFC's URL
 *               namespace, fixed for ever: changing it changes every id
 */
#ifndef ROUTE_ID_H
#define ROUTE_ID_H

#define ROUTE_ID_NAMESPACE "8f9a67de-b482-5b01-9179-0ec6b22c0228"
#define ROUTE_ID_LEN 37 /* 36 characters and the NUL */

/* bron is the cause event's "TYPE:CODE". Writes the lowercase UUID into out. Returns 0, or -1 when
 * OpenSSL fails or the name does not fit (out is then ""). */
int route_melding_id(const char *bron, const char *event_id, const char *regel, const char *type,
                     const char *code, char out[ROUTE_ID_LEN]);

#endif
