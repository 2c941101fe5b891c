/*
 * route_melding — a route result's melding as kh_melding sees it.
 */
#include "route_melding.h"

const char *route_melding_ontvanger_type(const route_melding *m) {
    return route_slot_describe(m->ontvanger)->type;
}

const char *route_melding_ontvanger_code(const route_result *r, const route_melding *m) {
    return r->party[m->ontvanger].code;
}

/* The rule's known parties, in the rule's order, into b; returns how many. */
static size_t betrokkenen(const route_result *r, const route_rule *rule,
                          kh_melding_betrokkene b[ROUTE_MAX_BETROKKENEN]) {
    size_t n = 0;
    for (size_t i = 0; i < ROUTE_MAX_BETROKKENEN && rule->betrokkenen[i] != ROUTE_NONE; i++) {
        route_slot s = rule->betrokkenen[i];
        const route_party *p = &r->party[s];
        const route_slot_info *info = route_slot_describe(s);
        if (p->known)
            b[n++] = (kh_melding_betrokkene){info->rol, info->type, p->code, p->naam,
                                             p->old_code[0] ? p->old_code : NULL};
    }
    return n;
}

int route_melding_encode(kh_melding_encoder *e, const route_event *ev, const route_result *r,
                         const route_melding *m, const route_cause *cause, char **wire, size_t *len,
                         char *err, size_t errlen) {
    const route_rule *rule = route_rule_at((size_t)m->rule);
    kh_melding_betrokkene b[ROUTE_MAX_BETROKKENEN];
    kh_melding k = {.melding_id = m->melding_id,
                    .regel = rule->regel,
                    .ontvanger_type = route_melding_ontvanger_type(m),
                    .ontvanger_code = route_melding_ontvanger_code(r, m),
                    .event_type = route_kind_symbol(ev->kind),
                    .event_id = ev->event_id,
                    .topic = cause->topic,
                    .partition = cause->partition,
                    .offset = cause->offset,
                    .betrokkenen = b,
                    .nbetrokkenen = betrokkenen(r, rule, b),
                    .peildatum = ev->peildatum,
                    .bsn = ev->bsn,
                    .geboortedatum = ev->geboortedatum,
                    .toelichting = m->toelichting,
                    .aangemaakt_op = ev->aangemaakt_op};
    return kh_melding_encode(e, &k, wire, len, err, errlen);
}

rd_kafka_headers_t *route_melding_headers(const route_result *r, const route_melding *m) {
    return kh_melding_headers(m->melding_id, route_melding_ontvanger_type(m),
                              route_melding_ontvanger_code(r, m));
}
