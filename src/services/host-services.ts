import type { PairingStore } from '../access/pairing-store.js';
import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import { hostTimezone } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { Db } from '../db/database.js';
import type { TaskStore } from '../scheduler/task-store.js';
import { BudgetService } from './budget-service.js';
import { GroupLifecycle } from './group-lifecycle.js';
import { PairingService } from './pairing-service.js';
import { TaskService } from './task-service.js';

export interface HostServicesDeps {
  db: Db;
  audit: AuditSink;
  clock: Clock;
  config: () => Config;
  tasks: TaskStore;
  pairings: PairingStore;
  /** A task was added or changed: wake the scheduler. */
  onTasksChanged: () => void;
  /** Re-read the groups into the running host (after /register); it retires agents of removed or re-mapped groups. */
  reloadGroups: () => Promise<unknown>;
}

/** The operations every front end of a running host calls: chat commands, agent tools, the dashboard. */
export interface HostServices {
  tasks: TaskService;
  groups: GroupLifecycle;
  budget: BudgetService;
  pairings: PairingService;
}

export function createHostServices(deps: HostServicesDeps): HostServices {
  const { db, audit, clock, config } = deps;
  return {
    tasks: new TaskService({ store: deps.tasks, clock, groups: () => config().groups, onChange: deps.onTasksChanged }),
    groups: new GroupLifecycle({
      db,
      audit,
      clock,
      config,
      tasks: deps.tasks,
      reloadHost: async () => {
        await deps.reloadGroups();
        return true;
      },
    }),
    budget: new BudgetService({ db, audit, clock, config, hostTimezone: hostTimezone() }),
    pairings: new PairingService({ store: deps.pairings, audit }),
  };
}
