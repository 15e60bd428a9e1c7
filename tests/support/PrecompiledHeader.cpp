// SPDX-License-Identifier: GPL-3.0-or-later
// The target that makes the tests' shared precompiled header compiles this
// empty file: the header is all it is for.
