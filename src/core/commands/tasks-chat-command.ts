import { describeSchedule, formatLocalTime } from '../../scheduler/schedule.js';
import { TaskError, type TaskService } from '../../services/task-service.js';
import { groupOf, type CommandSpec } from './commands.js';

export function tasksChatCommand(deps: { tasks: TaskService }): CommandSpec {
  return {
    name: 'tasks',
    usage: '/tasks [cancel <id>]',
    help: "this group's scheduled tasks; the owner may cancel one",
    needsGroup: true,
    ownerOnly: (args) => args[0]?.toLowerCase() === 'cancel',
    run: (ctx, args) => {
      const caller = { actor: ctx.identity, group: groupOf(ctx).name };
      if (args[0]?.toLowerCase() === 'cancel') {
        const id = Number(args[1]?.replace('#', ''));
        // Another group's task is answered like a missing one.
        const missing = `There is no active task #${args[1] ?? '?'} in this group (see /tasks).`;
        if (!Number.isInteger(id)) return missing;
        try {
          deps.tasks.cancel(id, caller);
        } catch (err) {
          if (err instanceof TaskError) return missing;
          throw err;
        }
        return `Cancelled task #${id}.`;
      }
      const tasks = deps.tasks.list(caller);
      if (tasks.length === 0) return 'No scheduled tasks. Ask the assistant to remind you of something, or use `enclave tasks add`.';
      return [
        `Scheduled tasks of ${caller.group}:`,
        ...tasks.map((t) => {
          const next = t.nextRunAt ? `next ${formatLocalTime(t.nextRunAt, t.timezone)}` : 'not scheduled';
          const prompt = t.prompt.length > 80 ? `${t.prompt.slice(0, 77)}...` : t.prompt;
          return `#${t.id} ${describeSchedule(t)} (${t.status}, ${next}${t.failures ? `, ${t.failures} failure(s)` : ''}): ${prompt}`;
        }),
      ].join('\n');
    },
  };
}
