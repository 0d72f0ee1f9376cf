#!/bin/sh
# SPDX-License-Identifier: ISC
# Generates configure and Makefile.in; they are not committed.
exec autoreconf -fi "$(dirname "$0")"
