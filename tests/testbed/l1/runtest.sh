# SPDX-License-Identifier: MIT
# Runs one test function in a fresh shell: runtest.sh SCENARIO FUNC [ARGS...]
. /testbed/lib.sh
. /testbed/config
. "/testbed/scenarios/$1.sh"
shift
"$@"
