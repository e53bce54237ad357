// http_bridge.mjs: the reference for the HTTP apps' tests, what
// `mcpgate mcp connect NAME` is for an HTTP app but without the gateway:
// JSON-RPC lines on stdin go to an MCP server over the official SDK's
// StreamableHTTPClientTransport (or SSEClientTransport with --sse), and
// every message from the server is written to stdout, a line each. So
// stdio_client.mjs runs the very checks it runs through the gateway
// against the server directly, and a check that fails both ways is the
// server's, not the gateway's.
//
// usage: node http_bridge.mjs [--sse] [--header 'Name: value']... URL
//
// The protocol version the server answers to initialize is given to the
// transport, which sends it on every later request, as a client does.
// Exit 0 at the end of stdin, 1 when the transport fails or closes.

import process from 'node:process';
import readline from 'node:readline';

function usage() {
    process.stderr.write('usage: node http_bridge.mjs [--sse] [--header \'Name: value\']... URL\n');
    process.exit(2);
}

const argv = process.argv.slice(2);
let sse = false;
const headers = {};
let url = null;
for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sse') {
        sse = true;
    } else if (argv[i] === '--header' && i + 1 < argv.length) {
        const h = argv[++i];
        const c = h.indexOf(':');
        if (c <= 0)
            usage();
        headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
    } else if (url === null && !argv[i].startsWith('-')) {
        url = argv[i];
    } else {
        usage();
    }
}
if (url === null)
    usage();

const mod = sse ? await import('@modelcontextprotocol/sdk/client/sse.js') :
    await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
const opts = { requestInit: { headers } };
const transport = sse ? new mod.SSEClientTransport(new URL(url), opts) :
    new mod.StreamableHTTPClientTransport(new URL(url), opts);

const initIds = new Set();
let done = false;
transport.onmessage = m => {
    if (m && initIds.has(m.id) && m.result && m.result.protocolVersion &&
        typeof transport.setProtocolVersion === 'function') {
        initIds.delete(m.id);
        transport.setProtocolVersion(m.result.protocolVersion);
    }
    process.stdout.write(JSON.stringify(m) + '\n');
};
transport.onerror = e => process.stderr.write(`http_bridge: ${e?.message ?? e}\n`);
transport.onclose = () => {
    if (!done) {
        process.stderr.write('http_bridge: the transport closed\n');
        process.exit(1);
    }
};

try {
    await transport.start();
} catch (e) {
    process.stderr.write(`http_bridge: ${url}: ${e?.message ?? e}\n`);
    process.exit(1);
}

// Messages are sent one after another, in the order read: a POST is
// answered (or its stream opened) before the next one goes.
let chain = Promise.resolve();
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', line => {
    if (line.trim() === '')
        return;
    let m;
    try {
        m = JSON.parse(line);
    } catch {
        process.stderr.write('http_bridge: a line on stdin is not JSON\n');
        return;
    }
    if (m.method === 'initialize' && m.id !== undefined)
        initIds.add(m.id);
    chain = chain.then(() => transport.send(m)).catch(e =>
        process.stderr.write(`http_bridge: send: ${e?.message ?? e}\n`));
});
rl.on('close', async () => {
    await chain;
    done = true;
    try {
        if (!sse && typeof transport.terminateSession === 'function')
            await transport.terminateSession();
        await transport.close();
    } catch (e) {
        process.stderr.write(`http_bridge: close: ${e?.message ?? e}\n`);
    }
    process.exit(0);
});
