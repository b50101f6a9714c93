/* SPDX-License-Identifier: MIT */
#ifndef HOST_COMMANDS_H
#define HOST_COMMANDS_H

#include <stdio.h>

#include "host/host.h"

/*
 * The host subcommands: doctor, devices, bind, unbind. host_main() runs
 * argv[1]'s command and returns its exit status, or -1 when argv[1] is
 * not one of them (main() then parses a run command line).
 */
int host_main(int argc, char **argv);
int host_main_env(const struct host_env *env, int argc, char **argv, FILE *out, FILE *err);

/* The devices table and its JSON form, for tests. */
int host_print_devices(const struct host_env *env, bool json, FILE *out);

#endif
