#!/usr/bin/env node
// The `sedna` command.
import { Command, InvalidArgumentError } from 'commander';
import { apiserverCommand } from './apiserver.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number between 0 and 65535');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const program = new Command();
program.name('sedna').description('Sedna edge-cloud collaborative AI, in TypeScript').showHelpAfterError();

program
  .command('apiserver')
  .description('run the embedded Kubernetes-compatible API server (SQLite-backed) and write DATA_DIR/kubeconfig')
  .requiredOption('--data-dir <dir>', 'where state, certificates and the kubeconfig live')
  .option('--port <port>', 'HTTPS port (0 picks a free one)', port, 6443)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--advertise <names...>', 'extra host names or addresses for the serving certificate')
  .option('--compact-interval <seconds>', 'how often old revisions are compacted', positiveInt, 60)
  .option('--compact-retain <revisions>', 'newest revisions always kept for watches', positiveInt, 100_000)
  .option('--demo', 'after start-up, apply a sample CRD, resource and deployment and print how to use kubectl')
  .action(apiserverCommand);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Expected failures (a data directory in use, a port taken) read as one line, not a stack.
  process.stderr.write(`sedna: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
