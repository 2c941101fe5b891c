/*
 * termijn_melding — a termijn melding as kh_melding sees it.
 */
#include "termijn_melding.h"

static const char *const kind_symbols[TERMIJN_EV_KINDS] = {"AANMELDING", "TLV", "BESCHIKKING",
                                                           "VERWIJZING"};

int termijn_melding_encode(kh_melding_encoder *e, const termijn_melding *m,
                           const char *const topics[TERMIJN_EV_KINDS], char **wire, size_t *len,
                           char *err, size_t errlen) {
    const termijn_oorzaak *o = &m->oorzaak;
    int kind = o->kind < TERMIJN_EV_KINDS ? o->kind : 0;
    kh_melding_betrokkene b[TERMIJN_BETROKKENEN];
    for (size_t i = 0; i < m->nbetrokkenen; i++) {
        const termijn_betrokkene *t = &m->betrokkenen[i];
        b[i] = (kh_melding_betrokkene){t->rol, t->type, t->code, t->naam,
                                       t->opvolger_van[0] ? t->opvolger_van : NULL};
    }
    kh_melding_termijn t = {.zaak = m->zaak,
                            .geopend_op = m->geopend,
                            .vervaldatum = m->vervaldatum,
                            .stap = m->stap,
                            .achterhaalt = m->achterhaalt[0] ? m->achterhaalt : NULL};
    kh_melding out = {.melding_id = m->melding_id,
                      .regel = termijn_regel_naam(m->regel),
                      .ontvanger_type = m->ontvanger_type,
                      .ontvanger_code = m->ontvanger_code,
                      .event_type = kind_symbols[kind],
                      .event_id = o->event_id,
                      .topic = topics[kind],
                      .partition = o->partition,
                      .offset = o->offset,
                      .betrokkenen = b,
                      .nbetrokkenen = m->nbetrokkenen,
                      .peildatum = m->peildatum,
                      .bsn = m->bsn,
                      .geboortedatum = m->geboortedatum,
                      .toelichting = m->toelichting,
                      .aangemaakt_op = m->aangemaakt_op,
                      .termijn = &t};
    return kh_melding_encode(e, &out, wire, len, err, errlen);
}

rd_kafka_headers_t *termijn_melding_headers(const termijn_melding *m) {
    return kh_melding_headers(m->melding_id, m->ontvanger_type, m->ontvanger_code);
}
