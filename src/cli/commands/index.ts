import type { Command } from '../command.js';
import { conformance } from './conformance.js';
import { doctor } from './doctor.js';
import { info } from './info.js';
import { artifacts, pem, pems, tags } from './lists.js';
import { diffCommand, explainCommand, exportCommand, impactCommand, lineageCommand, pathsCommand, stateAtCommand } from './lineage.js';
import { local } from './local.js';
import { mcp } from './mcp.js';
import { bridgeOpenLineage, importOpenLineage } from './openlineage.js';
import { outboxLs, outboxPurge, outboxReplay } from './outbox.js';
import { send } from './send.js';
import { sync } from './sync.js';
import { tagGet, tagLs, tagSet } from './tag.js';
import { viewCommand } from './view.js';

/** Every command, in the order `rk --help` lists them. */
export const COMMANDS: readonly Command[] = [
  local,
  info,
  doctor,
  conformance,
  send,
  tagSet,
  tagGet,
  tagLs,
  pems,
  pem,
  artifacts,
  tags,
  lineageCommand,
  explainCommand,
  stateAtCommand,
  diffCommand,
  exportCommand,
  pathsCommand,
  impactCommand,
  viewCommand,
  sync,
  importOpenLineage,
  bridgeOpenLineage,
  mcp,
  outboxLs,
  outboxReplay,
  outboxPurge,
];

/** Commands with subcommands: `rk tag set`, `rk outbox ls`. */
export const GROUPS: Record<string, string> = {
  tag: 'set, read and list tags',
  outbox: "look at, replay and purge a durable outbox's dead letters",
  import: 'bring events of other tools into RK (OpenLineage)',
  bridge: 'endpoints that record the events of other tools in RK (OpenLineage)',
};
