/** `sluice delete [CONTAINER [OBJECT...]]`: swiftclient's delete (bulk where the cluster offers it). */
import { UsageError } from '../errors';
import type { CliIo } from '../main';
import { describeFailure, parseCommand, printJson, runCommand } from './command';

export const DELETE_USAGE = `Usage: sluice delete CONTAINER [OBJECT...] [--prefix P] [--leave-segments]
       sluice delete --all

Deletes objects; with a CONTAINER alone, every object in it and then the container.
  -p, --prefix        only objects whose names start with P (the container stays)
  --leave-segments    keep the segments of large objects
  -a, --all           every container of the account, and their objects`;

export async function runDelete(argv: string[], io: CliIo): Promise<number> {
  const cmd = parseCommand(argv, { prefix: { type: 'string', short: 'p' }, 'leave-segments': { type: 'boolean' }, all: { type: 'boolean', short: 'a' } }, DELETE_USAGE, io);
  if (!cmd) return 0;
  const [container, ...objects] = cmd.positionals;
  const { prefix, all, json, quiet } = cmd.values;
  const leaveSegments = cmd.values['leave-segments'] === true;
  if (all ? container !== undefined : container === undefined) throw new UsageError(all ? '--all takes no CONTAINER' : 'delete needs a CONTAINER (or --all)', DELETE_USAGE);
  if (prefix !== undefined && objects.length > 0) throw new UsageError('give OBJECTs or --prefix, not both', DELETE_USAGE);
  return runCommand(io, async () => {
    const { store } = cmd.connection();
    const deleted: string[] = [];
    const failed: { path: string; error: string }[] = [];
    const report = (path: string, error?: string) => {
      if (error) {
        failed.push({ path, error });
        if (!json) io.err(`Error deleting ${path}: ${error}`);
      } else {
        deleted.push(path);
        if (!json && !quiet) io.out(path);
      }
    };
    const deleteObjects = async (c: string, names: readonly string[]) => {
      for (const name of names) {
        try {
          await store.object(c, name).delete({ leaveSegments });
          report(`${c}/${name}`);
        } catch (err) {
          report(`${c}/${name}`, describeFailure(err));
        }
      }
    };
    const everything = async (c: string, onlyPrefix?: string) => {
      const names: string[] = [];
      for await (const o of store.container(c).objects({ prefix: onlyPrefix })) if (o.kind === 'object') names.push(o.name);
      await deleteObjects(c, names);
    };
    const containers: string[] = [];
    if (all) for await (const c of store.account.containers()) containers.push(c.name);
    else if (objects.length === 0) containers.push(container!);
    if (objects.length > 0) await deleteObjects(container!, objects);
    else if (prefix !== undefined) await everything(container!, prefix);
    else
      for (const c of containers) {
        await everything(c);
        try {
          await store.container(c).delete();
          report(c);
        } catch (err) {
          report(c, describeFailure(err));
        }
      }
    if (json) printJson(io, { deleted, failed });
    return failed.length > 0 ? 1 : 0;
  });
}
