// The benchmark's receiver: a tiny node:http server on 127.0.0.1, run in its own process (child_process.fork) so
// that it does not share the sender's event loop. It reads each request body and answers 200 "ok", after
// `--delay=<ms>` when given (the slow receiver of the memory row). `--mode=hang` never answers (a receiver that
// hangs), `--mode=retry-after` answers `503` with `Retry-After: 6`. It exits when its parent goes away.
import { createServer } from 'node:http';

const delayArg = process.argv.find((arg) => arg.startsWith('--delay='));
const delayMs = delayArg ? Number(delayArg.slice('--delay='.length)) : 0;
const modeArg = process.argv.find((arg) => arg.startsWith('--mode='));
const mode = modeArg ? modeArg.slice('--mode='.length) : 'ok';
let received = 0;

const answer = (res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
};

const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    received++;
    if (mode === 'hang') return;
    if (mode === 'retry-after') {
      res.writeHead(503, { 'retry-after': '6', 'content-length': '0' });
      res.end();
      return;
    }
    if (delayMs > 0) setTimeout(answer, delayMs, res);
    else answer(res);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send({ port: server.address().port });
});

process.on('message', (message) => {
  if (message === 'count') process.send({ received });
});
// The parent's IPC channel closing (normal end, crash or kill) ends the receiver too.
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
});
