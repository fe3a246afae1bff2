/*
 * routes.h - what each part of the users service registers.
 *
 * Each file owns one resource and registers its own routes, so main.c only
 * lists the parts. Every function returns 0, or -1 when a registration
 * failed.
 */
#ifndef USERS_ROUTES_H
#define USERS_ROUTES_H

#include "core/http.h"

int profile_routes(struct http_server *srv);     /* /users/me, /users/me/deactivate */
int addresses_routes(struct http_server *srv);   /* /users/me/addresses[/:id] */
int preferences_routes(struct http_server *srv); /* /users/me/preferences */
int admin_routes(struct http_server *srv);       /* /users, /users/:id */

/* Consume the auth service's user.* events (call before service_main, which
 * starts the event threads before it registers routes). */
int consumers_subscribe(void);

#endif
