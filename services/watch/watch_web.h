/*
 * watch_web — the page and the OpenAPI description, compiled in by
 * embed_web.cmake: path ("/index.html", "/app.js", "/openapi.json") and
 * text; the table ends with {0, 0}. Static storage.
 */
#ifndef WATCH_WEB_H
#define WATCH_WEB_H

typedef struct watch_web_file {
    const char *path;
    const char *text;
} watch_web_file;

extern const watch_web_file watch_web_files[];

#endif
