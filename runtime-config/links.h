/* The wrapper binary and the links it is run through (measured-<x>,
 * containerd-shim-measured-<x>-v2), all in one directory. */
#ifndef MEASURED_LINKS_H
#define MEASURED_LINKS_H

#include "merr.h"
#include "naming.h"

/* The directory of this program: the wrapper and its links live next to it. */
char *own_bindir(void);

/* Makes bindir/link_name a link to the wrapper; one that exists already is fine, anything else
 * by that name is refused. Says what it made on stdout. */
int ensure_link(const char *bindir, const char *link_name, merr **err);

#endif
