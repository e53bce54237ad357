// faultserver.mjs: an HTTP server that fails as MCP servers do, one way a
// path, for the faults of the HTTP apps' tests. Plain node:http, no SDK:
// what it answers is written out here, byte for byte.
//
// usage: node faultserver.mjs [--big BYTES] [--log FILE]
//
// It listens on 127.0.0.1 and, for the redirect, on 127.0.0.2 (the
// "other host"), each on a port the kernel picks, and prints the two
// ports on a line of stdout: "PORT OTHERPORT". --log appends a JSON
// line per request: {host: "main"|"other", method, path, headers}.
//
//   /500         every request: 500 Internal Server Error, a text body;
//   /slow        every request: never answered (until the client leaves);
//   /big         initialize: a JSON-RPC answer of BYTES bytes (1 MiB by
//                default), in one application/json body;
//   /broken      initialize and notifications as a server should (a JSON
//                answer, Mcp-Session-Id), then any other request: a
//                text/event-stream answer that stops in the middle of an
//                event, the connection cut;
//   /broken-sse  the older SSE transport: GET sends the endpoint event
//                (/broken-sse/message), the answer to initialize comes on
//                it, and the answer to the next request stops in the
//                middle of its event, the connection cut;
//   /redirect    every request: 302 to http://127.0.0.2:OTHERPORT/mcp;
//   anything else: 404.
// The other host answers 200 with an empty JSON object, and logs.

import fs from 'node:fs';
import http from 'node:http';
import process from 'node:process';

const opts = { big: 1024 * 1024, log: null };
{
    const argv = process.argv.slice(2);
    for (let i = 0; i < argv.length; i += 2) {
        const k = argv[i].replace(/^--/, '');
        if (!(k in opts) || i + 1 >= argv.length) {
            process.stderr.write('usage: node faultserver.mjs [--big BYTES] [--log FILE]\n');
            process.exit(2);
        }
        opts[k] = k === 'big' ? Number(argv[i + 1]) : argv[i + 1];
    }
}

function log(host, req) {
    if (opts.log === null)
        return;
    const headers = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
    fs.appendFileSync(opts.log, JSON.stringify({ host, method: req.method, path: req.url, headers }) + '\n');
}

async function body(req) {
    const chunks = [];
    for await (const c of req)
        chunks.push(c);
    const s = Buffer.concat(chunks).toString('utf8');
    try {
        return JSON.parse(s);
    } catch {
        return null;
    }
}

const INIT_RESULT = {
    protocolVersion: '2025-06-18',
    capabilities: { tools: {} },
    serverInfo: { name: 'mcpgate-faultserver', version: '1.0.0' },
};

function json(res, obj, headers = {}) {
    const b = JSON.stringify(obj);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b), ...headers });
    res.end(b);
}

// A JSON-RPC message cut in the middle of its SSE event, then the
// connection gone.
function cut(res, id) {
    const whole = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { content: [] } })}\n\n`;
    res.write(whole.slice(0, whole.length / 2));
    setTimeout(() => res.socket?.destroy(), 100);
}

let otherPort = 0;
const sse = new Map();	// legacy SSE session id -> response of its GET
let sseSeq = 0;

async function main(req, res) {
    log('main', req);
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    if (p === '/500') {
        await body(req);
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Internal Server Error: the faultserver fails on purpose\n');
    } else if (p === '/slow') {
        // Never answered; the socket goes when the client leaves.
        req.resume();
    } else if (p === '/big') {
        const m = await body(req);
        if (m?.method !== 'initialize')
            return json(res, {});
        const pad = 'x'.repeat(Math.max(0, opts.big));
        json(res, { jsonrpc: '2.0', id: m.id, result: { ...INIT_RESULT, instructions: pad } });
    } else if (p === '/broken') {
        const m = await body(req);
        if (req.method !== 'POST' || m === null) {
            res.writeHead(405).end();
        } else if (m.method === 'initialize') {
            json(res, { jsonrpc: '2.0', id: m.id, result: INIT_RESULT }, { 'mcp-session-id': 'broken-1' });
        } else if (m.id === undefined) {
            res.writeHead(202).end();
        } else {
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
            cut(res, m.id);
        }
    } else if (p === '/broken-sse' && req.method === 'GET') {
        const id = `s${++sseSeq}`;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(`event: endpoint\ndata: /broken-sse/message?sessionId=${id}\n\n`);
        sse.set(id, res);
        req.on('close', () => sse.delete(id));
    } else if (p === '/broken-sse/message' && req.method === 'POST') {
        const m = await body(req);
        const stream = sse.get(url.searchParams.get('sessionId'));
        if (stream === undefined || m === null) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(202).end();
        if (m.method === 'initialize')
            stream.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: INIT_RESULT })}\n\n`);
        else if (m.id !== undefined)
            cut(stream, m.id);
    } else if (p === '/redirect') {
        await body(req);
        res.writeHead(302, { location: `http://127.0.0.2:${otherPort}/mcp`, 'content-length': 0 });
        res.end();
    } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not here\n');
    }
}

function other(req, res) {
    log('other', req);
    req.resume();
    json(res, {});
}

const onError = e => {
    process.stderr.write(`faultserver: ${e.message}\n`);
    process.exit(1);
};
const a = http.createServer((req, res) => main(req, res).catch(e => {
    process.stderr.write(`faultserver: ${e.stack ?? e}\n`);
    res.destroy();
}));
const b = http.createServer(other);
a.on('error', onError);
b.on('error', onError);
b.listen({ port: 0, host: '127.0.0.2' }, () => {
    otherPort = b.address().port;
    a.listen({ port: 0, host: '127.0.0.1' }, () => {
        process.stdout.write(`${a.address().port} ${otherPort}\n`);
    });
});
