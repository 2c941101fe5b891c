/*
 * route_slot — what each slot of the rules is: its placeholder name in the
 * toelichting templates, its Betrokkene rol and its type in melding.avsc.
 */
#include "route_slot.h"

static const route_slot_info slot_info[ROUTE_SLOTS] = {
    [ROUTE_NONE] = {"", NULL, NULL},
    [ROUTE_WOON] = {"WOON", "WOONPLAATSGEMEENTE", "GEMEENTE"},
    [ROUTE_SCHOOLGEMEENTE] = {"SCHOOLGEMEENTE", "SCHOOLGEMEENTE", "GEMEENTE"},
    [ROUTE_BESCHIKKER] = {"BESCHIKKER", "BESCHIKKENDE_GEMEENTE", "GEMEENTE"},
    [ROUTE_SWV_WOON] = {"SWV_WOON", "SWV_WOONPLAATS", "SWV"},
    [ROUTE_SWV_SCHOOL] = {"SWV_SCHOOL", "SWV_SCHOOL", "SWV"},
    [ROUTE_SWV_AFGEVER] = {"SWV_AFGEVER", "SWV_AFGEVER", "SWV"},
    [ROUTE_AANBIEDER] = {"AANBIEDER", "AANBIEDER", "AANBIEDER"},
    [ROUTE_JZ_WOON] = {"JZ_WOON", "JEUGDREGIO_WOONPLAATS", "JEUGDREGIO"},
    [ROUTE_JZ_AANBIEDER] = {"JZ_AANBIEDER", "JEUGDREGIO_AANBIEDER", "JEUGDREGIO"},
    [ROUTE_SCHOOL] = {"SCHOOL", NULL, "SCHOOL"},
    [ROUTE_AANBIEDERGEMEENTE] = {"AANBIEDERGEMEENTE", NULL, "GEMEENTE"},
    [ROUTE_SECTOR] = {"SECTOR", NULL, NULL},
    [ROUTE_SOORT] = {"SOORT", NULL, NULL},
    [ROUTE_STATUS] = {"STATUS", NULL, NULL},
};

const route_slot_info *route_slot_describe(route_slot s) {
    return &slot_info[s < ROUTE_SLOTS ? s : ROUTE_NONE];
}
