/*
 * push_offsets — per-partition FIFO of consumed records and their
 * reference counts; the head of the FIFO bounds the committable offset.
 */
#include "push_offsets.h"

#include "kh_alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct partition partition;

struct push_pending {
    push_pending *next; /* in the partition's FIFO */
    partition *part;    /* NULL once orphaned */
    int64_t offset;
    int refs;
    int abandoned; /* never finishes */
};

struct partition {
    partition *next;
    push_offsets *owner;
    char *topic;
    int32_t partition;
    push_pending *head, *tail;
    int64_t next_offset; /* after the last record tracked; -1 before the first */
    int64_t reported;    /* what committable() last reported; -1 none */
};

struct push_offsets {
    partition *parts;
    size_t unfinished;
};

push_offsets *push_offsets_new(void) { return kh_calloc(1, sizeof(push_offsets)); }

static int finished(const push_pending *e) { return e->refs == 0 && !e->abandoned; }

/* Detaches a partition's records: those without references are freed, the
 * others by their last push_pending_done() or push_pending_abandon(). */
static void orphan_all(partition *p) {
    push_pending *e = p->head;
    while (e) {
        push_pending *next = e->next;
        e->next = NULL;
        e->part = NULL;
        if (!finished(e))
            p->owner->unfinished--;
        if (e->refs == 0)
            free(e);
        e = next;
    }
    p->head = p->tail = NULL;
}

void push_offsets_free(push_offsets *o) {
    if (!o)
        return;
    for (partition *p = o->parts, *next; p; p = next) {
        next = p->next;
        orphan_all(p);
        free(p->topic);
        free(p);
    }
    free(o);
}

static partition *find(push_offsets *o, const char *topic, int32_t part) {
    for (partition *p = o->parts; p; p = p->next)
        if (p->partition == part && strcmp(p->topic, topic) == 0)
            return p;
    return NULL;
}

push_pending *push_offsets_track(push_offsets *o, const char *topic, int32_t part, int64_t offset) {
    partition *p = find(o, topic, part);
    if (!p) {
        p = kh_calloc(1, sizeof *p);
        p->topic = kh_strdup(topic);
        p->owner = o;
        p->partition = part;
        p->next_offset = -1;
        p->reported = -1;
        p->next = o->parts;
        o->parts = p;
    }
    push_pending *e = kh_calloc(1, sizeof *e);
    e->part = p;
    e->offset = offset;
    e->refs = 1;
    if (p->tail)
        p->tail->next = e;
    else
        p->head = e;
    p->tail = e;
    p->next_offset = offset + 1;
    o->unfinished++;
    return e;
}

void push_pending_ref(push_pending *e) { e->refs++; }

int push_pending_orphan(const push_pending *e) { return e->part == NULL; }

void push_pending_abandon(push_pending *e) {
    e->abandoned = 1;
    if (--e->refs == 0 && !e->part)
        free(e);
}

void push_pending_done(push_pending *e) {
    if (--e->refs > 0)
        return;
    partition *p = e->part;
    if (!p) {
        free(e);
        return;
    }
    if (e->abandoned)
        return;
    p->owner->unfinished--;
    /* Finished records stay in the FIFO until everything before them is. */
    while (p->head && finished(p->head)) {
        push_pending *h = p->head;
        p->head = h->next;
        if (!p->head)
            p->tail = NULL;
        free(h);
    }
}

static int64_t committable(const partition *p) {
    return p->head ? p->head->offset : p->next_offset;
}

rd_kafka_topic_partition_list_t *push_offsets_committable(push_offsets *o, int all) {
    rd_kafka_topic_partition_list_t *list = NULL;
    for (partition *p = o->parts; p; p = p->next) {
        int64_t c = committable(p);
        if (c < 0 || (!all && c == p->reported))
            continue;
        if (!list)
            list = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = c;
        p->reported = c;
    }
    return list;
}

void push_offsets_revoke(push_offsets *o, const char *topic, int32_t part) {
    for (partition **pp = &o->parts; *pp; pp = &(*pp)->next) {
        partition *p = *pp;
        if (p->partition == part && strcmp(p->topic, topic) == 0) {
            orphan_all(p);
            *pp = p->next;
            free(p->topic);
            free(p);
            return;
        }
    }
}

size_t push_offsets_unfinished(const push_offsets *o) { return o->unfinished; }
