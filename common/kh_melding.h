/*
 * kh_melding — the Melding of schemas/avro/melding.avsc as route and
 * termijn write it: one plain struct, filled into a reused Avro value field
 * by field and encoded in the wire format, and the record headers push
 * delivers by (event-type=melding, melding-id, ontvanger "TYPE:CODE").
 *
 * The struct only points: every string belongs to the caller and must live
 * until kh_melding_encode returns. Enum fields (regel, ontvanger_type,
 * event_type, rol, type) are melding.avsc symbols; a symbol the schema does
 * not have fails the encode.
 */
#ifndef KH_MELDING_H
#define KH_MELDING_H

#include <avro.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_schema.h"

/* An organisation or region involved, with its role (Betrokkene). */
typedef struct kh_melding_betrokkene {
    const char *rol, *type, *code, *naam;
    const char *opvolger_van; /* NULL: none */
} kh_melding_betrokkene;

/* The deadline a termijn melding is about (Termijn); dates in days since
 * 1970-01-01, as the schema's logical date. */
typedef struct kh_melding_termijn {
    const char *zaak;
    int32_t geopend_op, vervaldatum;
    int32_t stap;
    const char *achterhaalt; /* NULL: not a follow-up */
} kh_melding_termijn;

typedef struct kh_melding {
    const char *melding_id, *regel;
    const char *ontvanger_type, *ontvanger_code;
    /* oorzaak: the cause event and its place on Kafka */
    const char *event_type, *event_id, *topic;
    int32_t partition;
    int64_t offset;
    const kh_melding_betrokkene *betrokkenen;
    size_t nbetrokkenen;
    int32_t peildatum;
    const char *bsn;
    int32_t geboortedatum;
    const char *toelichting;
    int64_t aangemaakt_op;             /* milliseconds since the epoch */
    const kh_melding_termijn *termijn; /* NULL in a grensverkeer melding */
} kh_melding;

/* One Avro value, reset for every melding, so encoding allocates only the
 * output buffer. One thread at a time. */
typedef struct kh_melding_encoder {
    const kh_schema *schema;
    avro_value_t value;
} kh_melding_encoder;

/* Returns 0, or -1 with err filled (no melding schema in all, or out of
 * memory). Free with kh_melding_encoder_free. */
int kh_melding_encoder_init(kh_melding_encoder *e, const kh_schemas *all, char *err, size_t errlen);
void kh_melding_encoder_free(kh_melding_encoder *e);

/* Encodes m into *wire (the caller frees it, or hands it to librdkafka with
 * RD_KAFKA_MSG_F_FREE). Returns 0, or -1 with err filled. */
int kh_melding_encode(kh_melding_encoder *e, const kh_melding *m, char **wire, size_t *len,
                      char *err, size_t errlen);

/* The record headers of a melding; the caller owns them (rd_kafka_producev
 * takes them over on success). */
rd_kafka_headers_t *kh_melding_headers(const char *melding_id, const char *ontvanger_type,
                                       const char *ontvanger_code);

#endif
