import { describeSchedule, formatLocalTime } from '../../scheduler/schedule.js';
import type { TaskStore } from '../../scheduler/task-store.js';
import { groupOf, type CommandSpec } from './commands.js';

export function tasksChatCommand(deps: { tasks: TaskStore; onChange: () => void }): CommandSpec {
  return {
    name: 'tasks',
    usage: '/tasks [cancel <id>]',
    help: "this group's scheduled tasks; the owner may cancel one",
    needsGroup: true,
    ownerOnly: (args) => args[0]?.toLowerCase() === 'cancel',
    run: (ctx, args) => {
      const group = groupOf(ctx);
      if (args[0]?.toLowerCase() === 'cancel') {
        const id = Number(args[1]?.replace('#', ''));
        const task = Number.isInteger(id) ? deps.tasks.get(id) : undefined;
        // Another group's task is answered like a missing one.
        if (!task || task.group !== group.name || !deps.tasks.cancel(id, ctx.identity)) return `There is no active task #${args[1] ?? '?'} in this group (see /tasks).`;
        deps.onChange();
        return `Cancelled task #${id}.`;
      }
      const tasks = deps.tasks.list(group.name);
      if (tasks.length === 0) return 'No scheduled tasks. Ask the assistant to remind you of something, or use `enclave tasks add`.';
      return [
        `Scheduled tasks of ${group.name}:`,
        ...tasks.map((t) => {
          const next = t.nextRunAt ? `next ${formatLocalTime(t.nextRunAt, t.timezone)}` : 'not scheduled';
          const prompt = t.prompt.length > 80 ? `${t.prompt.slice(0, 77)}...` : t.prompt;
          return `#${t.id} ${describeSchedule(t)} (${t.status}, ${next}${t.failures ? `, ${t.failures} failure(s)` : ''}): ${prompt}`;
        }),
      ].join('\n');
    },
  };
}
