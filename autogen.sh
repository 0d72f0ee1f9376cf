#!/bin/sh
# Generates configure and Makefile.in; they are not committed.
exec autoreconf -fi "$(dirname "$0")"
