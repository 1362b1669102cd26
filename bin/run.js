#!/usr/bin/env node
// What a checkout runs (`bin/run.js prog list`, the tests): the installed entry point,
// bin/tailcalls.cjs, which does everything.
import './tailcalls.cjs'
