/*
 * kh_code — the formats of the official codes ketenhub handles. One place,
 * so the validator, the reference-data loader and the services agree.
 * Each function returns 1 when s has exactly that form.
 */
#ifndef KH_CODE_H
#define KH_CODE_H

/* Matches s against a pattern where 'D' stands for a digit, 'A' for a
 * capital letter and any other character for itself: "GMDDDD". */
int kh_code_matches(const char *s, const char *pattern);

int kh_code_gemeente(const char *s);   /* CBS: GM + 4 digits, GM0599 */
int kh_code_jeugdregio(const char *s); /* CBS: JZ + 2 digits, JZ21 */
int kh_code_swv(const char *s);        /* PO or VO + 4 digits, PO2801 */
int kh_code_school(const char *s); /* BRIN (2 digits + 2 capitals) + 2-digit vestiging, 12AB00 */
int kh_code_agb(const char *s);    /* AGB: 8 digits */

/* Is item one of the comma-separated list ("TOEGEKEND,GEWIJZIGD")? */
int kh_code_in_list(const char *list, const char *item);

/* The format check for an organisation of type GEMEENTE, SWV, SCHOOL or
 * AANBIEDER; 0 for an unknown type. */
int kh_code_for_type(const char *type, const char *code);

/* A short description of the expected format for that type, for errors. */
const char *kh_code_format_hint(const char *type);

#endif
