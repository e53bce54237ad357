// sdk_reconnect.mjs: the official MCP TypeScript SDK as the client of
// `mcpgate mcp connect NAME` while the gateway restarts under it.  It
// initializes, calls mcpgate_session_info, prints
//
//   READY <session id>
//
// and waits for a line on its stdin (the test restarts the gateway
// meanwhile); then it calls mcpgate_session_info again, as an AI client
// would, retrying while the answer is the bridge's -32000 "retry", and
// prints one JSON line:
//
//   {"first":ID,"second":ID,"retries":N,"closed":BOOL,"error":TEXT}
//
// closed says whether the SDK saw the transport close.  Exit 0 when it got
// that far, 1 on the global timeout, 2 on a usage error or a crash.
//
// usage: node sdk_reconnect.mjs --mcpgate /abs/bin/mcpgate --server NAME
// MCPGATE_HOME (and any other MCPGATE_* variable) is passed to the bridge.

import process from 'node:process';
import readline from 'node:readline';

const GLOBAL_TIMEOUT_MS = 60000;
const RETRY_MS = 250;
const RETRIES = 80;

function usage() {
    process.stderr.write('usage: node sdk_reconnect.mjs --mcpgate /abs/bin/mcpgate --server NAME\n');
    process.exit(2);
}

function arg(name) {
    const i = process.argv.indexOf(name);
    if (i === -1 || i + 1 >= process.argv.length)
        usage();
    return process.argv[i + 1];
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function sessionId(client) {
    const r = await client.callTool({ name: 'mcpgate_session_info', arguments: {} });
    if (r.isError || !r.structuredContent)
        throw new Error(`no structured result: ${JSON.stringify(r).slice(0, 200)}`);
    return r.structuredContent.session_id;
}

async function main() {
    const mcpgate = arg('--mcpgate');
    const server = arg('--server');
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StdioClientTransport, getDefaultEnvironment } =
        await import('@modelcontextprotocol/sdk/client/stdio.js');

    const env = { ...getDefaultEnvironment() };
    for (const [k, v] of Object.entries(process.env))
        if (v !== undefined && (k.startsWith('MCPGATE_') ||
            /^(ASAN|LSAN|UBSAN)_OPTIONS$/.test(k)))
            env[k] = v;
    const transport = new StdioClientTransport({
        command: mcpgate, args: ['mcp', 'connect', server], env, stderr: 'inherit',
    });
    let closed = false;
    const client = new Client({ name: 'mcpgate-sdk-reconnect', version: '1.0.0' });
    client.onclose = () => { closed = true; };
    await client.connect(transport);
    const first = await sessionId(client);
    process.stdout.write(`READY ${first}\n`);

    const rl = readline.createInterface({ input: process.stdin });
    await new Promise(resolve => rl.once('line', resolve));
    rl.close();

    let second = null, retries = 0, error = null;
    for (; retries < RETRIES && !closed; retries++) {
        try {
            second = await sessionId(client);
            break;
        } catch (e) {
            error = e instanceof Error ? e.message : String(e);
            if (!/retry/.test(error))
                break;
            await sleep(RETRY_MS);
        }
    }
    process.stdout.write(JSON.stringify({ first, second, retries, closed,
        error: second === null ? error : null }) + '\n');
    await client.close();
}

setTimeout(() => {
    process.stderr.write('sdk_reconnect: global timeout\n');
    process.exit(1);
}, GLOBAL_TIMEOUT_MS).unref();

main().then(() => process.exit(0), e => {
    process.stderr.write(`sdk_reconnect: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(2);
});
