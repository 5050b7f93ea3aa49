#!/bin/sh
# initd-stop.sh -- the "stop" case of initd-firewall.sh (run from this directory)
set -- stop
. ./initd-firewall.sh
