/*
 * route_cases — the case table and its event builder. Codes, names and
 * memberships are those of deploy/reference/ (its README lists the
 * regions): e.g. Capelle aan den IJssel GM0502 is in PO2803 / VO2801 and
 * JZ29 Rijnmond; Rotterdam GM0599 in PO2801 / VO2801; Castricum GM0383 and
 * Uitgeest GM0450 are in jeugdregio JZ06 Alkmaar like Alkmaar GM0361 but in
 * PO2711 / VO2710 instead of PO2705 / VO2705; Beverwijk GM0375 shares
 * PO2711 / VO2710 with Castricum but is in JZ10 IJmond. Brielle GM0501
 * merged into Voorne aan Zee GM1992 on 2023-01-01, Heerhugowaard GM0398
 * and Langedijk GM0416 into Dijk en Waard GM1980 on 2022-01-01.
 */
#include "route_cases.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define R1 "ONDERWIJS_BUITEN_WOONGEMEENTE"
#define R2 "ONDERWIJS_BUITEN_SWV_REGIO"
#define R3 "TLV_BUITEN_SWV_WOONPLAATS"
#define R4 "BESCHIKKING_NIET_DOOR_WOONPLAATSGEMEENTE"
#define R5 "ZORG_OP_SCHOOL_BUITEN_WOONGEMEENTE"
#define R6 "VERWIJZING_BUITEN_JEUGDREGIO"
#define R7 "TLV_EERSTE_INSCHRIJVING_BUITEN_SWV_WOONPLAATS"
#define LP "LEERPLICHT_AFWIJZING"
#define RMC "RMC_AFWIJZING"
#define VB "VERBLIJF_BUITEN_WOONPLAATS"
#define LV "LEERLINGENVERVOER"
#define WV "WETTELIJKE_VERWIJZING"

/* A hand-laid table: one case per paragraph, read side by side. */
/* clang-format off */
/* The woonplaatsbeginsel as the texts state it. */
#define WPB "Volgens het woonplaatsbeginsel van de Jeugdwet is voor individuele jeugdhulp de gemeente " \
            "van het woonadres in de BRP verantwoordelijk"
#define LV_TEXT "Ouders kunnen bij de gemeente een vergoeding voor leerlingenvervoer aanvragen"
#define RIJNMOND_CONVENANT                                                                     \
    "is voor jeugdregio Rijnmond (JZ29) afgesproken: \"dat het woonplaatsbeginsel leidend is"

/* The toelichting of rule 1 for Capelle / Rotterdam, both recipients. */
#define CAPELLE_ROTTERDAM_TEXT                                                                \
    {"Leerling woont volgens de BRP in Capelle aan den IJssel (GM0502)",                      \
     "OBS Het Noorderlicht (12AB00)", "in Rotterdam (GM0599)", WPB,                            \
     "Hoe Capelle aan den IJssel en Rotterdam hulp op school afstemmen"}

#define BRIELLE_MERGED "Brielle (GM0501) is per 1 januari 2023 opgegaan in Voorne aan Zee (GM1992)"
#define LANGEDIJK_MERGED                                                                       \
    "Langedijk (GM0416) is per 1 januari 2022 opgegaan in Dijk en Waard (GM1980)"

/* Most cases leave out the optional fields after `want`; they are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

const route_case route_cases[] = {
    /* ---- aanmelding: rules 1 and 2 ---------------------------------- */
    {"capelle-op-school-rotterdam-po", "aanmelding", "2026-03-02", "GM0502", "GEPLAATST",
     "12AB00", "GM0599", "PO", NULL, NULL,
     {{R1, "GEMEENTE:GM0502", CAPELLE_ROTTERDAM_TEXT,
       {"WOONPLAATSGEMEENTE GEMEENTE GM0502", "SCHOOLGEMEENTE GEMEENTE GM0599"}},
      {R1, "GEMEENTE:GM0599", CAPELLE_ROTTERDAM_TEXT, {NULL}},
      {R2, "SWV:PO2803", {"hoort bij Samenwerkingsverband PO Capelle aan den IJssel en Krimpen aan den IJssel (PO2803)",
                          "primair onderwijs",
                          "Samenwerkingsverband Passend Primair Onderwijs Rotterdam (PPO Rotterdam) (PO2801)",
                          "De school valt onder samenwerkingsverband PO2801"},
       {"SWV_WOONPLAATS SWV PO2803", "SWV_SCHOOL SWV PO2801", "WOONPLAATSGEMEENTE GEMEENTE GM0502",
        "SCHOOLGEMEENTE GEMEENTE GM0599"}},
      {R2, "SWV:PO2801", {"PO2803", "PO2801"}, {NULL}}}},
    {"capelle-op-school-rotterdam-vo-zelfde-swv", "aanmelding", "2026-03-02", "GM0502",
     "GEPLAATST", "20RT00", "GM0599", "VO", NULL, NULL,
     {{R1, "GEMEENTE:GM0502", {"Rotterdams Stedelijk Lyceum (20RT00)", "Rotterdam (GM0599)"}, {NULL}},
      {R1, "GEMEENTE:GM0599", {"Capelle aan den IJssel (GM0502)"}, {NULL}}}},
    {"rotterdam-op-school-rotterdam", "aanmelding", "2026-03-02", "GM0599", "GEPLAATST",
     "12AB00", "GM0599", "PO", NULL, NULL, {{0}}},
    {"capelle-rotterdam-ingediend", "aanmelding", "2026-03-02", "GM0502", "INGEDIEND", "12AB00",
     "GM0599", "PO", NULL, NULL, {{0}}},
    {"capelle-rotterdam-in-behandeling", "aanmelding", "2026-03-02", "GM0502", "IN_BEHANDELING",
     "12AB00", "GM0599", "PO", NULL, NULL, {{0}}},
    {"capelle-rotterdam-afgewezen", "aanmelding", "2026-03-02", "GM0502", "AFGEWEZEN", "12AB00",
     "GM0599", "PO", NULL, NULL,
     {{LP, "GEMEENTE:GM0502", {"De aanmelding van een leerplichtige leerling uit Capelle aan den IJssel (GM0502)",
                               "bij OBS Het Noorderlicht (12AB00) in Rotterdam (GM0599) is op 2 maart 2026 afgewezen",
                               "voor de leerplichtambtenaar van Capelle aan den IJssel"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0502", "SCHOOLGEMEENTE GEMEENTE GM0599"}}}},
    {"capelle-rotterdam-ingetrokken", "aanmelding", "2026-03-02", "GM0502", "INGETROKKEN",
     "12AB00", "GM0599", "PO", NULL, NULL,
     {{LP, "GEMEENTE:GM0502", {"is op 2 maart 2026 ingetrokken"}, {NULL}}}},
    /* Leerplicht begins on the first day of the month after the 5th
     * birthday: born 2021-02-28, five in February, leerplichtig from 1 March. */
    {"leerplicht-vanaf-maand-na-vijfde-verjaardag", "aanmelding", "2026-03-02", "GM0502",
     "AFGEWEZEN", "12OA00", "GM0502", "PO", NULL, NULL,
     {{LP, "GEMEENTE:GM0502", {"leerplichtige leerling", "CBS De Wegwijzer (12OA00)"}, {NULL}}},
     .geboren = "2021-02-28"},
    /* Born 2021-03-01: five in March, leerplichtig only from 1 April. */
    {"nog-niet-leerplichtig", "aanmelding", "2026-03-02", "GM0502", "AFGEWEZEN", "12OA00",
     "GM0502", "PO", NULL, NULL, {{NULL}}, .geboren = "2021-03-01"},
    /* Sixteen on 2025-06-10: kwalificatieplichtig from 1 August 2025. */
    {"kwalificatieplichtig-afgewezen", "aanmelding", "2026-03-02", "GM0502", "AFGEWEZEN",
     "20RT00", "GM0599", "VO", NULL, NULL,
     {{LP, "GEMEENTE:GM0502", {"kwalificatieplichtige leerling", "Rotterdams Stedelijk Lyceum (20RT00)"},
       {NULL}}},
     .geboren = "2009-06-10"},
    /* Eighteen on the event date: no longer leerplicht but the RMC's. */
    {"achttien-afgewezen-rmc", "aanmelding", "2026-03-02", "GM0502", "AFGEWEZEN", "20RT00",
     "GM0599", "VO", NULL, NULL,
     {{RMC, "GEMEENTE:GM0599", {"jongere van 18 jaar uit Capelle aan den IJssel (GM0502)",
                                "is op 2 maart 2026 afgewezen",
                                "regionale meld- en coördinatiefunctie voortijdig schoolverlaten (RMC)",
                                "Rotterdam (GM0599), contactgemeente van RMC-regio Rijnmond (RMC32)"},
       {"RMC_CONTACTGEMEENTE GEMEENTE GM0599", "WOONPLAATSGEMEENTE GEMEENTE GM0502"}}},
     .geboren = "2008-03-02"},
    {"rmc-castricum-ingetrokken", "aanmelding", "2026-02-10", "GM0383", "INGETROKKEN", "30AK00",
     "GM0361", "VO", NULL, NULL,
     {{RMC, "GEMEENTE:GM0375", {"jongere van 20 jaar", "ingetrokken",
                                "Beverwijk (GM0375), contactgemeente van RMC-regio Zuid-Kennemerland en IJmond (RMC27)"},
       {NULL}}},
     .geboren = "2005-07-01"},
    /* Placed, not refused: neither leerplicht nor RMC. */
    {"achttien-geplaatst", "aanmelding", "2026-03-02", "GM0599", "GEPLAATST", "20RT00", "GM0599",
     "VO", NULL, NULL, {{NULL}}, .geboren = "2008-01-01"},
    {"castricum-op-school-alkmaar-vo", "aanmelding", "2026-02-10", "GM0383", "GEPLAATST",
     "30AK00", "GM0361", "VO", NULL, NULL,
     {{R1, "GEMEENTE:GM0383", {"Castricum (GM0383)", "Murmellius Gymnasium (30AK00)", "Alkmaar (GM0361)"}, {NULL}},
      {R1, "GEMEENTE:GM0361", {"Castricum (GM0383)"}, {NULL}},
      {R2, "SWV:VO2710", {"voortgezet onderwijs", "Samenwerkingsverband VO Midden-Kennemerland (VO2710)",
                          "Samenwerkingsverband VO Regio Alkmaar (VO2705)"},
       {"SWV_WOONPLAATS SWV VO2710", "SWV_SCHOOL SWV VO2705"}},
      {R2, "SWV:VO2705", {"VO2710", "VO2705"}, {NULL}}}},
    {"uitgeest-sbo-alkmaar", "aanmelding", "2026-02-10", "GM0450", "GEPLAATST", "31AK00",
     "GM0361", "SBO", NULL, NULL,
     {{R1, "GEMEENTE:GM0450", {"Uitgeest (GM0450)", "SBO De Kleine Prins (31AK00)"}, {NULL}},
      {R1, "GEMEENTE:GM0361", {"Uitgeest (GM0450)"}, {NULL}},
      {R2, "SWV:PO2711", {"Passend Onderwijs IJmond (PO2711)", "primair onderwijs",
                          "Passend Primair Onderwijs Noord-Kennemerland (PPO-NK) (PO2705)"}, {NULL}},
      {R2, "SWV:PO2705", {"PO2711"}, {NULL}},
      {LV, "GEMEENTE:GM0450", {"Leerling uit Uitgeest (GM0450) is geplaatst op SBO De Kleine Prins (31AK00) in Alkmaar (GM0361), voor het speciaal basisonderwijs",
                               LV_TEXT, "volgens haar verordening leerlingenvervoer",
                               "zegt niets over een recht op vervoer"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0450", "SCHOOLGEMEENTE GEMEENTE GM0361"}}}},
    /* Cluster 1 and 2 instellingen are outside the SWV's: no SWV rule. */
    {"capelle-cluster-2-rotterdam", "aanmelding", "2026-03-02", "GM0502", "GEPLAATST", "24RT00",
     "GM0599", "SO", NULL, NULL,
     {{R1, "GEMEENTE:GM0502", {"De Klankkast, school voor SO en VSO cluster 2 (24RT00)"}, {NULL}},
      {R1, "GEMEENTE:GM0599", {"Capelle aan den IJssel (GM0502)"}, {NULL}},
      {LV, "GEMEENTE:GM0502", {"voor het speciaal onderwijs", LV_TEXT}, {NULL}}}},
    {"castricum-op-school-beverwijk-zelfde-swv", "aanmelding", "2026-02-10", "GM0383",
     "GEPLAATST", "33BV00", "GM0375", "VO", NULL, NULL,
     {{R1, "GEMEENTE:GM0383", {"Beverwijk (GM0375)"}, {NULL}},
      {R1, "GEMEENTE:GM0375", {"Castricum (GM0383)"}, {NULL}}}},
    {"uitgeest-pro-alkmaar", "aanmelding", "2026-02-10", "GM0450", "GEPLAATST", "62AC00",
     "GM0361", "PRO", NULL, NULL,
     {{R1, "GEMEENTE:GM0450", {"Praktijkschool Alkmaar (62AC00)"}, {NULL}},
      {R1, "GEMEENTE:GM0361", {"Uitgeest (GM0450)"}, {NULL}},
      {R2, "SWV:VO2710", {"voortgezet onderwijs"}, {NULL}},
      {R2, "SWV:VO2705", {"VO2710"}, {NULL}}}},
    {"jeugdhulp-geplaatst-elders", "aanmelding", "2026-03-02", "GM0502", "GEPLAATST", "98000000",
     "GM0599", NULL, NULL, NULL, {{0}}},
    {"brielle-op-school-hellevoetsluis-2022", "aanmelding", "2022-06-01", "GM0501", "GEPLAATST",
     "37HB00", "GM0530", "PO", NULL, NULL,
     {{R1, "GEMEENTE:GM0501", {"Brielle (GM0501)", "CBS De Wegwijzer (37HB00)", "Hellevoetsluis (GM0530)"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0501", "SCHOOLGEMEENTE GEMEENTE GM0530"}},
      {R1, "GEMEENTE:GM0530", {"Brielle (GM0501)"}, {NULL}}}},
    {"brielle-op-school-hellevoetsluis-2023", "aanmelding", "2023-03-01", "GM0501", "GEPLAATST",
     "37HB00", "GM1992", "PO", NULL, NULL, {{0}}},
    {"brielle-op-school-rotterdam-2023", "aanmelding", "2023-03-01", "GM0501", "GEPLAATST",
     "12AB00", "GM0599", "PO", NULL, NULL,
     {{R1, "GEMEENTE:GM1992", {"Leerling woont volgens de BRP in Voorne aan Zee (GM1992)", BRIELLE_MERGED,
                               "Hoe Voorne aan Zee en Rotterdam hulp op school afstemmen"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM1992<GM0501", "SCHOOLGEMEENTE GEMEENTE GM0599"}},
      {R1, "GEMEENTE:GM0599", {BRIELLE_MERGED}, {NULL}},
      {R2, "SWV:PO2806", {"Samenwerkingsverband PO Voorne-Putten (PO2806)", BRIELLE_MERGED},
       {"SWV_WOONPLAATS SWV PO2806", "SWV_SCHOOL SWV PO2801", "WOONPLAATSGEMEENTE GEMEENTE GM1992<GM0501"}},
      {R2, "SWV:PO2801", {"PO2806"}, {NULL}}}},
    {"heerhugowaard-op-school-langedijk-2021", "aanmelding", "2021-09-01", "GM0398",
     "GEPLAATST", "73ZC00", "GM0416", "PO", NULL, NULL,
     {{R1, "GEMEENTE:GM0398", {"Heerhugowaard (GM0398)", "Langedijk (GM0416)"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0398", "SCHOOLGEMEENTE GEMEENTE GM0416"}},
      {R1, "GEMEENTE:GM0416", {"Heerhugowaard (GM0398)"}, {NULL}}}},
    {"heerhugowaard-op-school-langedijk-2022", "aanmelding", "2022-03-01", "GM0398",
     "GEPLAATST", "73ZC00", "GM1980", "PO", NULL, NULL, {{0}}},
    {"langedijk-op-school-alkmaar-2022", "aanmelding", "2022-03-01", "GM0416", "GEPLAATST",
     "60MB00", "GM0361", "PO", NULL, NULL,
     {{R1, "GEMEENTE:GM1980", {"Dijk en Waard (GM1980)", LANGEDIJK_MERGED},
       {"WOONPLAATSGEMEENTE GEMEENTE GM1980<GM0416"}},
      {R1, "GEMEENTE:GM0361", {LANGEDIJK_MERGED}, {NULL}}}},

    /* ---- tlv: rule 3 ------------------------------------------------ */
    {"tlv-so-rotterdam-woont-capelle", "tlv", "2026-03-01", "GM0502", "AFGEGEVEN", "PO2801",
     "21RT00", "SO", NULL, NULL,
     {{R3, "SWV:PO2803", {"Ter informatie: Samenwerkingsverband Passend Primair Onderwijs Rotterdam (PPO Rotterdam) (PO2801) heeft",
                          "speciaal onderwijs (SO)", "Capelle aan den IJssel (GM0502)",
                          "Betaalt: het afgevende samenwerkingsverband PO2801",
                          "Verlengt: samenwerkingsverband PO2801"},
       {"SWV_AFGEVER SWV PO2801", "SWV_WOONPLAATS SWV PO2803", "WOONPLAATSGEMEENTE GEMEENTE GM0502"}},
      {LV, "GEMEENTE:GM0502", {"(PO2801) heeft een toelaatbaarheidsverklaring voor het speciaal onderwijs (SO) afgegeven voor een leerling uit Capelle aan den IJssel (GM0502)",
                               LV_TEXT},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0502", "SWV_AFGEVER SWV PO2801"}}}},
    /* A first enrolment: the SWV of the woonplaats issues; another is an anomaly. */
    {"tlv-so-eerste-inschrijving-rotterdam-woont-capelle", "tlv", "2026-03-01", "GM0502",
     "AFGEGEVEN", "PO2801", "21RT00", "SO", NULL, NULL,
     {{R7, "SWV:PO2801", {"bij een eerste inschrijving van een leerling die woont in Capelle aan den IJssel (GM0502)",
                          "hier Samenwerkingsverband PO Capelle aan den IJssel en Krimpen aan den IJssel (PO2803)",
                          "Wilt u samen nagaan"},
       {"SWV_AFGEVER SWV PO2801", "SWV_WOONPLAATS SWV PO2803"}},
      {R7, "SWV:PO2803", {"eerste inschrijving"}, {NULL}},
      {LV, "GEMEENTE:GM0502", {LV_TEXT}, {NULL}}},
     .eerste = 1},
    {"tlv-so-eerste-inschrijving-eigen-swv", "tlv", "2026-03-01", "GM0502", "AFGEGEVEN", "PO2803",
     "12OA00", "SO", NULL, NULL, {{LV, "GEMEENTE:GM0502", {LV_TEXT}, {NULL}}}, .eerste = 1},
    {"tlv-so-verwijzing-rotterdam-woont-capelle", "tlv", "2026-03-01", "GM0502", "AFGEGEVEN",
     "PO2801", "21RT00", "SO", NULL, NULL,
     {{R3, "SWV:PO2803", {"Ter informatie"}, {NULL}}, {LV, "GEMEENTE:GM0502", {LV_TEXT}, {NULL}}},
     .eerste = -1},
    /* Praktijkonderwijs: a TLV of the SWV VO. */
    {"tlv-pro-alkmaar-woont-castricum", "tlv", "2026-03-01", "GM0383", "AFGEGEVEN", "VO2705",
     "62AC00", "PRO", NULL, NULL,
     {{R3, "SWV:VO2710", {"praktijkonderwijs (PRO)", "voortgezet onderwijs"}, {NULL}},
      {LV, "GEMEENTE:GM0383", {"praktijkonderwijs (PRO)"}, {NULL}}}},
    {"tlv-aangevraagd", "tlv", "2026-03-01", "GM0502", "AANGEVRAAGD", "PO2801", "21RT00", "SO",
     NULL, NULL, {{0}}},
    {"tlv-afgewezen", "tlv", "2026-03-01", "GM0502", "AFGEWEZEN", "PO2801", "21RT00", "SO", NULL,
     NULL, {{0}}},
    {"tlv-ingetrokken", "tlv", "2026-03-01", "GM0502", "INGETROKKEN", "PO2801", "21RT00", "SO",
     NULL, NULL, {{0}}},
    {"tlv-so-eigen-swv", "tlv", "2026-03-01", "GM0502", "AFGEGEVEN", "PO2803", "12OA00", "SO",
     NULL, NULL, {{LV, "GEMEENTE:GM0502", {LV_TEXT}, {NULL}}}},
    {"tlv-vso-koers-woont-capelle", "tlv", "2026-03-01", "GM0502", "AFGEGEVEN", "VO2801",
     "21RT00", "VSO", NULL, NULL, {{LV, "GEMEENTE:GM0502", {"voortgezet speciaal onderwijs (VSO)"}, {NULL}}}},
    {"tlv-vso-alkmaar-woont-castricum", "tlv", "2025-08-01", "GM0383", "AFGEGEVEN", "VO2705",
     "30AK00", "VSO", NULL, NULL,
     {{R3, "SWV:VO2710", {"voortgezet speciaal onderwijs (VSO)", "Castricum (GM0383)",
                          "Samenwerkingsverband VO Midden-Kennemerland (VO2710)",
                          "Samenwerkingsverband VO Regio Alkmaar (VO2705)"}, {NULL}},
      {LV, "GEMEENTE:GM0383", {LV_TEXT}, {NULL}}}},
    {"tlv-sbo-capelle-woont-rotterdam", "tlv", "2026-03-01", "GM0599", "AFGEGEVEN", "PO2803",
     "14CA00", "SBO", NULL, NULL,
     {{R3, "SWV:PO2801", {"speciaal basisonderwijs (SBO)", "Rotterdam (GM0599)"}, {NULL}},
      {LV, "GEMEENTE:GM0599", {"speciaal basisonderwijs (SBO)"}, {NULL}}}},
    {"tlv-so-voorne-putten-woont-brielle-2023", "tlv", "2023-03-01", "GM0501", "AFGEGEVEN",
     "PO2806", "35TA00", "SO", NULL, NULL,
     {{LV, "GEMEENTE:GM1992", {BRIELLE_MERGED}, {"WOONPLAATSGEMEENTE GEMEENTE GM1992<GM0501"}}}},

    /* ---- beschikking: rules 4 and 5 --------------------------------- */
    {"beschikking-alkmaar-woont-uitgeest", "beschikking", "2026-02-01", "GM0450", "TOEGEKEND",
     "GM0361", "98290429", NULL, NULL, NULL,
     {{R4, "GEMEENTE:GM0450", {"Alkmaar (GM0361) heeft jeugdhulp bij Praktijk voor Kind en Jeugd Alkmaar (98290429) toegekend",
                               "volgens de BRP woont in Uitgeest (GM0450)",
                               "de gemeente van het woonadres verantwoordelijk, hier Uitgeest",
                               "tenzij de jeugdige verblijft bij een jeugdhulpaanbieder",
                               "De gemeenten stemmen onderling af welke gemeente de hulp toewijst"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0450", "BESCHIKKENDE_GEMEENTE GEMEENTE GM0361",
        "AANBIEDER AANBIEDER 98290429"}},
      {R4, "GEMEENTE:GM0361", {"Uitgeest (GM0450)"}, {NULL}},
      {R4, "AANBIEDER:98290429", {"welke gemeente de hulp toewijst"}, {NULL}}},
     .variant = 3},
    {"beschikking-alkmaar-woont-uitgeest-gewijzigd", "beschikking", "2026-02-01", "GM0450",
     "GEWIJZIGD", "GM0361", "98290429", NULL, NULL, NULL,
     {{R4, "GEMEENTE:GM0450", {"gewijzigd"}, {NULL}},
      {R4, "GEMEENTE:GM0361", {"gewijzigd"}, {NULL}},
      {R4, "AANBIEDER:98290429", {"gewijzigd"}, {NULL}}},
     .variant = 3},
    /* The verantwoordelijke gemeente stated: compared instead of the BRP. */
    {"beschikking-alkmaar-verantwoordelijk-uitgeest", "beschikking", "2026-02-01", "GM0450",
     "TOEGEKEND", "GM0361", "98290429", NULL, NULL, NULL,
     {{R4, "GEMEENTE:GM0450", {"voor wie Uitgeest (GM0450) is opgegeven als verantwoordelijke gemeente (woonadres in de BRP)",
                               "is Uitgeest verantwoordelijk voor deze jeugdhulp",
                               "welke gemeente de hulp toewijst"},
       {"VERANTWOORDELIJKE_GEMEENTE GEMEENTE GM0450", "WOONPLAATSGEMEENTE GEMEENTE GM0450",
        "BESCHIKKENDE_GEMEENTE GEMEENTE GM0361"}},
      {R4, "GEMEENTE:GM0361", {"Uitgeest"}, {NULL}},
      {R4, "AANBIEDER:98290429", {"Uitgeest"}, {NULL}}},
     .verantw = "GM0450", .variant = 1},
    /* A child from Uitgeest in residential care in Rotterdam, registered
     * there: Uitgeest (before the stay) decides; no false alarm, but the
     * place of stay and its SWV's are told. */
    {"verblijf-rotterdam-verantwoordelijk-uitgeest", "beschikking", "2026-02-01", "GM0599",
     "TOEGEKEND", "GM0450", "98000017", NULL, NULL, NULL,
     {{VB, "GEMEENTE:GM0599", {"Uitgeest (GM0450) heeft jeugdhulp met verblijf toegekend bij Jeugdhulp Rijnmond \"De Haven\" (98000017) in Rotterdam (GM0599)",
                               "voor wie Uitgeest de verantwoordelijke gemeente is",
                               "blijft Uitgeest tijdens het verblijf verantwoordelijk",
                               "leerplicht en de samenwerkingsverbanden van Rotterdam"},
       {"VERANTWOORDELIJKE_GEMEENTE GEMEENTE GM0450", "VERBLIJFGEMEENTE GEMEENTE GM0599",
        "SWV_VERBLIJFGEMEENTE SWV PO2801", "SWV_VERBLIJFGEMEENTE SWV VO2801",
        "AANBIEDER AANBIEDER 98000017"}},
      {VB, "SWV:PO2801", {"Rotterdam"}, {NULL}},
      {VB, "SWV:VO2801", {"Rotterdam"}, {NULL}},
      {VB, "GEMEENTE:GM0450", {"Uitgeest"}, {NULL}}},
     .categorie = "43", .verantw = "GM0450", .reden = "VOOR_VERBLIJF"},
    /* Rotterdam decides on it instead: both rules. */
    {"verblijf-rotterdam-beschikt-verantwoordelijk-uitgeest", "beschikking", "2026-02-01",
     "GM0599", "TOEGEKEND", "GM0599", "98000017", NULL, NULL, NULL,
     {{R4, "GEMEENTE:GM0450", {"(woonadres vlak vóór het verblijf bij een jeugdhulpaanbieder, pleegouder of in een instelling)",
                               RIJNMOND_CONVENANT, "(datum onbekend)"},
       {NULL}},
      {R4, "GEMEENTE:GM0599", {"Uitgeest"}, {NULL}},
      {R4, "AANBIEDER:98000017", {"Uitgeest"}, {NULL}},
      {VB, "GEMEENTE:GM0599", {"blijft Uitgeest tijdens het verblijf verantwoordelijk"}, {NULL}},
      {VB, "SWV:PO2801", {"Uitgeest"}, {NULL}},
      {VB, "SWV:VO2801", {"Uitgeest"}, {NULL}},
      {VB, "GEMEENTE:GM0450", {"Uitgeest"}, {NULL}}},
     .categorie = "44", .verantw = "GM0450", .reden = "VOOR_VERBLIJF", .variant = 1},
    /* Verblijf without a verantwoordelijke gemeente: ask, name no payer. */
    {"verblijf-zonder-verantwoordelijke", "beschikking", "2026-02-01", "GM0599", "TOEGEKEND",
     "GM0450", "98000017", NULL, NULL, NULL,
     {{R4, "GEMEENTE:GM0599", {"jeugdhulp met verblijf bij Jeugdhulp Rijnmond \"De Haven\" (98000017) toegekend",
                               "volgens de BRP woont in Rotterdam (GM0599)",
                               "de gemeente van het woonadres vlak vóór dat verblijf verantwoordelijk",
                               "dat kan een andere gemeente zijn dan Rotterdam",
                               "Wilt u samen nagaan welke gemeente verantwoordelijk is?"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0599", "BESCHIKKENDE_GEMEENTE GEMEENTE GM0450"}},
      {R4, "GEMEENTE:GM0450", {"Wilt u samen nagaan"}, {NULL}},
      {R4, "AANBIEDER:98000017", {"Wilt u samen nagaan"}, {NULL}}},
     .categorie = "43", .variant = 2},
    {"verblijf-zonder-verantwoordelijke-eigen-gemeente", "beschikking", "2026-02-01", "GM0599",
     "TOEGEKEND", "GM0599", "98000017", NULL, NULL, NULL, {{NULL}}, .categorie = "35"},
    {"verblijf-in-verantwoordelijke-gemeente", "beschikking", "2026-02-01", "GM0450",
     "TOEGEKEND", "GM0450", "98730611", NULL, NULL, NULL, {{NULL}}, .categorie = "44",
     .verantw = "GM0450", .reden = "VOOR_VERBLIJF"},
    {"beschikking-afgewezen", "beschikking", "2026-02-01", "GM0450", "AFGEWEZEN", "GM0361",
     "98290429", NULL, NULL, NULL, {{0}}},
    {"beschikking-ingetrokken", "beschikking", "2026-02-01", "GM0450", "INGETROKKEN", "GM0361",
     "98290429", NULL, NULL, NULL, {{0}}},
    {"beschikking-beeindigd", "beschikking", "2026-02-01", "GM0450", "BEEINDIGD", "GM0361",
     "98290429", NULL, NULL, NULL, {{0}}},
    {"beschikking-rotterdam-woont-rotterdam", "beschikking", "2026-02-01", "GM0599",
     "TOEGEKEND", "GM0599", "98000000", NULL, NULL, NULL, {{0}}},
    {"zorg-op-school-rotterdam-woont-capelle", "beschikking", "2026-03-16", "GM0502",
     "TOEGEKEND", "GM0502", "98370013", NULL, "12AB00", NULL,
     {{R5, "GEMEENTE:GM0599", {"Jeugdige woont volgens de BRP in Capelle aan den IJssel (GM0502)",
                               "Stichting Opgroeien Capelle aan den IJssel (98370013)",
                               "OBS Het Noorderlicht (12AB00) in Rotterdam (GM0599)", WPB},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0502", "SCHOOLGEMEENTE GEMEENTE GM0599",
        "AANBIEDER AANBIEDER 98370013"}},
      {R5, "GEMEENTE:GM0502", {WPB, "Hoe de gemeenten hulp op school afstemmen"}, {NULL}}}},
    {"rotterdam-beschikt-zorg-op-school-rotterdam-woont-capelle", "beschikking", "2026-03-16",
     "GM0502", "TOEGEKEND", "GM0599", "98000000", NULL, "12AB00", NULL,
     {{R4, "GEMEENTE:GM0502", {"Rotterdam (GM0599) heeft jeugdhulp bij Jeugdhulp Rotterdam (98000000)",
                               RIJNMOND_CONVENANT}, {NULL}},
      {R4, "GEMEENTE:GM0599", {"Capelle aan den IJssel (GM0502)"}, {NULL}},
      {R4, "AANBIEDER:98000000", {"hier Capelle aan den IJssel"}, {NULL}},
      {R5, "GEMEENTE:GM0599", {"onder schooltijd"}, {NULL}},
      {R5, "GEMEENTE:GM0502", {"onder schooltijd"}, {NULL}}},
     .variant = 3},
    {"zorg-op-school-eigen-gemeente", "beschikking", "2026-03-16", "GM0502", "TOEGEKEND",
     "GM0502", "98370013", NULL, "12OA00", NULL, {{0}}},
    {"zorg-op-school-beeindigd", "beschikking", "2026-03-16", "GM0502", "BEEINDIGD", "GM0502",
     "98370013", NULL, "12AB00", NULL, {{0}}},
    {"beschikking-heerhugowaard-woont-langedijk-2021", "beschikking", "2021-06-01", "GM0416",
     "TOEGEKEND", "GM0398", "98400507", NULL, NULL, NULL,
     {{R4, "GEMEENTE:GM0416", {"Heerhugowaard (GM0398)", "Langedijk (GM0416)"}, {NULL}},
      {R4, "GEMEENTE:GM0398", {"Langedijk"}, {NULL}},
      {R4, "AANBIEDER:98400507", {"Jeugdhulp Heerhugowaard (98400507)"}, {NULL}}},
     .variant = 3},
    {"beschikking-dijk-en-waard-woont-langedijk-2022", "beschikking", "2022-03-01", "GM0416",
     "TOEGEKEND", "GM1980", "98400507", NULL, NULL, NULL, {{0}}},

    /* ---- verwijzing: rule 6 ----------------------------------------- */
    {"verwijzing-capelle-naar-utrecht", "verwijzing", "2026-03-05", "GM0502", NULL, "GM0502",
     "98060845", "AANBIEDER", NULL, NULL,
     {{R6, "GEMEENTE:GM0502", {"Capelle aan den IJssel (GM0502), jeugdregio Rijnmond (JZ29)",
                               "Kinder- en Jeugdpsychiatrie Utrecht (98060845) in Utrecht (GM0344)",
                               "jeugdregio Utrecht Stad (JZ22)",
                               "is Capelle aan den IJssel verantwoordelijk voor deze jeugdhulp, ook wanneer"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM0502", "JEUGDREGIO_WOONPLAATS JEUGDREGIO JZ29",
        "AANBIEDER AANBIEDER 98060845", "JEUGDREGIO_AANBIEDER JEUGDREGIO JZ22"}}}},
    {"verwijzing-castricum-naar-alkmaar-zelfde-regio", "verwijzing", "2026-03-05", "GM0383",
     NULL, "GM0383", "98290429", "AANBIEDER", NULL, NULL, {{0}}},
    {"verwijzing-castricum-naar-beverwijk", "verwijzing", "2026-03-05", "GM0383", NULL, "GM0383",
     "98000033", "AANBIEDER", NULL, NULL,
     {{R6, "GEMEENTE:GM0383", {"jeugdregio Alkmaar (JZ06)", "jeugdregio IJmond (JZ10)",
                               "Jeugd-GGZ Kennemerland; locatie Beverwijk (98000033)"}, {NULL}}}},
    {"verwijzing-naar-swv", "verwijzing", "2026-03-05", "GM0502", NULL, "GM0502", "PO2803",
     "SWV", NULL, NULL, {{NULL}}},
    /* Verwijzingen by law: the verantwoordelijke gemeente hears of it. */
    {"huisarts-verwijst-capelle-naar-capelle", "verwijzing", "2026-03-05", "GM0502", NULL,
     "GM0502", "98370013", "AANBIEDER", NULL, NULL,
     {{WV, "GEMEENTE:GM0502", {"De huisarts heeft een jeugdige uit Capelle aan den IJssel (GM0502) verwezen naar Stichting Opgroeien Capelle aan den IJssel (98370013)",
                               "de verantwoordelijke gemeente, Capelle aan den IJssel, om een toewijzing",
                               "binnen vijf werkdagen", "binnen acht weken"},
       {"VERANTWOORDELIJKE_GEMEENTE GEMEENTE GM0502", "AANBIEDER AANBIEDER 98370013"}}},
     .verwijzer = "HUISARTS", .variant = 1},
    {"gi-bepaalt-jeugdhulp-verantwoordelijk-rotterdam", "verwijzing", "2026-03-05", "GM0502",
     NULL, "GM0599", "98000000", "AANBIEDER", NULL, NULL,
     {{WV, "GEMEENTE:GM0599", {"De gecertificeerde instelling heeft voor een jeugdige uit Capelle aan den IJssel (GM0502) jeugdhulp bij Jeugdhulp Rotterdam (98000000) bepaald",
                               "de verantwoordelijke gemeente, Rotterdam"},
       {"VERANTWOORDELIJKE_GEMEENTE GEMEENTE GM0599", "WOONPLAATSGEMEENTE GEMEENTE GM0502"}}},
     .verwijzer = "GECERTIFICEERDE_INSTELLING", .verantw = "GM0599", .reden = "MOEDER_BIJ_GEBOORTE",
     .variant = 2},
    {"jeugdarts-verwijst-capelle-naar-utrecht", "verwijzing", "2026-03-05", "GM0502", NULL,
     "GM0502", "98060845", "AANBIEDER", NULL, NULL,
     {{R6, "GEMEENTE:GM0502", {"jeugdregio Utrecht Stad (JZ22)"}, {NULL}},
      {WV, "GEMEENTE:GM0502", {"De jeugdarts heeft"}, {NULL}}},
     .verwijzer = "JEUGDARTS", .variant = 1},
    {"verwijzing-rotterdam-naar-rotterdam", "verwijzing", "2026-03-05", "GM0599", NULL,
     "GM0599", "98000000", "AANBIEDER", NULL, NULL, {{0}}},
    {"verwijzing-brielle-naar-utrecht-2023", "verwijzing", "2023-03-01", "GM0501", NULL, "GM1992",
     "98060845", "AANBIEDER", NULL, NULL,
     {{R6, "GEMEENTE:GM1992", {BRIELLE_MERGED, "jeugdregio Rijnmond (JZ29)"},
       {"WOONPLAATSGEMEENTE GEMEENTE GM1992<GM0501"}}}},

    /* ---- poison: codes unknown at the event's date ------------------ */
    {"poison-woonplaats-voor-herindeling", "aanmelding", "2022-06-01", "GM1992", "GEPLAATST",
     "12AB00", "GM0599", "PO", NULL, "UNKNOWN_REFERENCE_CODE", {{0}}},
    {"poison-school-nog-niet-open", "aanmelding", "2024-03-01", "GM0502", "GEPLAATST", "22RT00",
     "GM0599", "PO", NULL, "UNKNOWN_REFERENCE_CODE", {{0}}},
    {"poison-aanbieder-gestopt", "beschikking", "2025-03-01", "GM0502", "TOEGEKEND", "GM0599",
     "98000025", NULL, NULL, "UNKNOWN_REFERENCE_CODE", {{0}}},
    {"poison-swv-onbekend", "tlv", "2026-03-01", "GM0502", "AFGEGEVEN", "PO2899", "21RT00", "SO",
     NULL, "UNKNOWN_REFERENCE_CODE", {{0}}},
};
/* clang-format on */

const size_t route_case_count = sizeof route_cases / sizeof route_cases[0];

size_t route_case_want_count(const route_case *c) {
    size_t n = 0;
    while (n < ROUTE_CASE_MAX_WANT && c->want[n].regel)
        n++;
    return n;
}

void route_case_event_id(uint64_t n, char out[37]) {
    snprintf(out, 37, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(n * 2654435761u),
             (unsigned)(n >> 32) & 0xFFFF, (unsigned)(n >> 48) & 0xFFF, (unsigned)(n & 0xFFF),
             (unsigned long long)n);
}

static json_t *envelope(const char *type, const char *code, const char *datum,
                        const char *event_id) {
    char occurred[40], received[40];
    snprintf(occurred, sizeof occurred, "%sT09:00:00Z", datum);
    snprintf(received, sizeof received, "%sT09:00:05Z", datum);
    return json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "event_id", event_id, "occurred_at", occurred,
                     "received_at", received, "bron", "type", type, "code", code);
}

static json_t *aanmelding(const route_case *c, json_t *env) {
    int onderwijs = c->soort != NULL;
    const char *org = onderwijs ? "SCHOOL" : "AANBIEDER";
    json_object_set_new(json_object_get(env, "bron"), "type", json_string(org));
    json_t *ev = json_pack("{s:o,s:s,s:s,s:{s:s,s:s},s:s,s:b,s:s,s:s}", "envelope", env,
                           "aanmelding_id", "AANM-1", "soort",
                           onderwijs ? "ONDERWIJS" : "JEUGDHULP", "bij", "type", org, "code",
                           c->org, "vestigingsgemeente", c->org2, "ondersteuningsbehoefte", 1,
                           "datum", c->datum, "status", c->status);
    if (onderwijs)
        json_object_set_new(ev, "onderwijssoort", json_string(c->soort));
    return ev;
}

static json_t *tlv(const route_case *c, json_t *env) {
    json_t *ev = json_pack("{s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "envelope", env, "tlv_id", "TLV-1",
                           "swv", c->org, "soort", c->soort, "aanvragende_school", c->org2,
                           "ingangsdatum", c->datum, "einddatum", "2027-07-31", "status",
                           c->status);
    if (strcmp(c->soort, "SO") == 0 || strcmp(c->soort, "VSO") == 0)
        json_object_set_new(ev, "bekostigingscategorie", json_string("LAAG"));
    if (c->eerste)
        json_object_set_new(ev, "eerste_inschrijving", json_boolean(c->eerste > 0));
    return ev;
}

static void verantwoordelijke(const route_case *c, json_t *ev) {
    if (c->verantw)
        json_object_set_new(ev, "verantwoordelijke_gemeente",
                            json_pack("{s:s,s:s}", "gemeente", c->verantw, "reden",
                                      c->reden ? c->reden : "BRP"));
}

static json_t *beschikking(const route_case *c, json_t *env) {
    json_t *ev = json_pack("{s:o,s:s,s:s,s:s,s:{s:s},s:{s:i,s:s,s:s},s:s,s:s,s:b}", "envelope", env,
                           "beschikking_id", "BS-1", "gemeente", c->org, "aanbieder", c->org2,
                           "product", "categorie", c->categorie ? c->categorie : "45", "omvang",
                           "volume", 2, "eenheid", "UUR", "frequentie", "PER_WEEK", "ingangsdatum",
                           c->datum, "status", c->status, "zorg_in_onderwijstijd",
                           c->school != NULL);
    if (c->school)
        json_object_set_new(ev, "school", json_string(c->school));
    verantwoordelijke(c, ev);
    return ev;
}

/* A medical verwijzer or GI refers through the gemeente (the bron) and is
 * named by an AGB code. */
static json_t *verwijzing(const route_case *c, json_t *env) {
    int aanbieder = strcmp(c->soort, "AANBIEDER") == 0;
    json_t *ev = json_pack("{s:o,s:s,s:{s:s,s:s},s:{s:s,s:s},s:s,s:s}", "envelope", env,
                           "verwijzing_id", "VW-1", "verwijzer", "type",
                           c->verwijzer ? c->verwijzer : "GEMEENTE", "code",
                           c->verwijzer ? "01012345" : c->org, "naar", "type", c->soort, "code",
                           c->org2, "domein", aanbieder ? "JEUGDHULP" : "ONDERWIJSONDERSTEUNING",
                           "datum", c->datum);
    verantwoordelijke(c, ev);
    return ev;
}

static const char *bron_type_of(const route_case *c) {
    return strcmp(c->event, "tlv") == 0          ? "SWV"
           : strcmp(c->event, "aanmelding") == 0 ? "SCHOOL"
                                                 : "GEMEENTE";
}

const char *route_case_bron(const route_case *c, char out[32]) {
    snprintf(out, 32, "%s:%s", bron_type_of(c), c->org);
    return out;
}

json_t *route_case_event(const route_case *c, const char *event_id, const char *bsn) {
    const char *bron_type = bron_type_of(c);
    json_t *env = envelope(bron_type, c->org, c->datum, event_id);
    json_t *ev = strcmp(c->event, "aanmelding") == 0    ? aanmelding(c, env)
                 : strcmp(c->event, "tlv") == 0         ? tlv(c, env)
                 : strcmp(c->event, "beschikking") == 0 ? beschikking(c, env)
                                                        : verwijzing(c, env);
    json_object_set_new(ev, "jeugdige",
                        json_pack("{s:s,s:s,s:s}", "bsn", bsn, "geboortedatum",
                                  c->geboren ? c->geboren : "2010-05-17", "woonplaatsgemeente",
                                  c->woon));
    return ev;
}

void route_case_melding_id(const char *bron, const char *event_id, const char *regel,
                           const char *ontvanger, char out[37]) {
    /* 8f9a67de-b482-5b01-9179-0ec6b22c0228, the ketenhub melding namespace */
    static const unsigned char ns[16] = {0x8f, 0x9a, 0x67, 0xde, 0xb4, 0x82, 0x5b, 0x01,
                                         0x91, 0x79, 0x0e, 0xc6, 0xb2, 0x2c, 0x02, 0x28};
    unsigned char buf[300], md[SHA_DIGEST_LENGTH];
    memcpy(buf, ns, 16);
    int n = snprintf((char *)buf + 16, sizeof buf - 16, "%s|%s|%s|%s", bron, event_id, regel,
                     ontvanger);
    SHA1(buf, 16 + (size_t)n, md);
    md[6] = (unsigned char)(0x50 | (md[6] & 0x0F));
    md[8] = (unsigned char)(0x80 | (md[8] & 0x3F));
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0],
             md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12],
             md[13], md[14], md[15]);
}
