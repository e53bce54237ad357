// sdk_demo.mjs: drive the mcpgate demo server through the stdio bridge
// (`mcpgate mcp connect NAME`) with the official MCP TypeScript SDK as the
// client, and print one line per check:
//
//   PASS sdk: <what>
//   FAIL sdk: <what>: <why>
//
// The exit status is 0 whatever the checks found (the runner counts the
// lines), 1 on the global timeout, 2 on a usage error or a crash of this
// script. Works on Node 18 and later.
//
// usage: node sdk_demo.mjs --mcpgate /abs/bin/mcpgate --server mcpgate-demo
//            [--expect-tools a,b,c] [--denied-tool NAME] [--user NAME]
//            [--gateway-name NAME]
// MCPGATE_HOME (and any other MCPGATE_* variable) is passed to the bridge.

import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const USAGE = 'usage: node sdk_demo.mjs --mcpgate /abs/bin/mcpgate --server NAME\n' +
    '           [--expect-tools a,b,c] [--denied-tool NAME] [--user NAME]\n' +
    '           [--gateway-name NAME]\n' +
    'MCPGATE_HOME in the environment is passed to the bridge.\n';

const GLOBAL_TIMEOUT_MS = 60000;
const CONNECT_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 10000;
const CLOSE_TIMEOUT_MS = 5000;
const CLIENT_NAME = 'mcpgate-sdk-test';
const CLIENT_VERSION = '1.2.3';
const UNKNOWN_TOOL = 'mcpgate_no_such_tool';

// ---------------------------------------------------------------- output

let nfail = 0;

function oneLine(s) {
    return String(s).replace(/\s+/g, ' ').trim().slice(0, 400);
}

function pass(what) {
    process.stdout.write(`PASS sdk: ${what}\n`);
}

function fail(what, why) {
    nfail++;
    process.stdout.write(`FAIL sdk: ${what}: ${oneLine(why)}\n`);
}

function check(what, ok, why) {
    if (ok)
        pass(what);
    else
        fail(what, why);
    return ok;
}

function errText(e) {
    if (e === undefined || e === null)
        return String(e);
    if (e instanceof Error)
        return e.message || String(e);
    return String(e);
}

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
    const opts = {
        mcpgate: null,
        server: null,
        expectTools: null,
        deniedTool: null,
        user: null,
        gatewayName: null,
    };
    const names = {
        '--mcpgate': 'mcpgate',
        '--server': 'server',
        '--expect-tools': 'expectTools',
        '--denied-tool': 'deniedTool',
        '--user': 'user',
        '--gateway-name': 'gatewayName',
    };
    for (let i = 0; i < argv.length; i++) {
        let arg = argv[i];
        if (arg === '-h' || arg === '--help') {
            process.stdout.write(USAGE);
            process.exit(0);
        }
        let value;
        const eq = arg.indexOf('=');
        if (arg.startsWith('--') && eq > 0) {
            value = arg.slice(eq + 1);
            arg = arg.slice(0, eq);
        }
        const key = names[arg];
        if (key === undefined)
            usageError(`unknown argument: ${arg}`);
        if (value === undefined) {
            if (i + 1 >= argv.length)
                usageError(`${arg} needs a value`);
            value = argv[++i];
        }
        opts[key] = value;
    }
    if (!opts.mcpgate)
        usageError('--mcpgate is required');
    if (!opts.server)
        usageError('--server is required');
    opts.mcpgate = path.resolve(opts.mcpgate);
    if (opts.expectTools !== null)
        opts.expectTools = opts.expectTools.split(',').map(s => s.trim()).filter(s => s !== '');
    return opts;
}

function usageError(msg) {
    process.stderr.write(`sdk_demo: ${msg}\n${USAGE}`);
    process.exit(2);
}

// ---------------------------------------------------------------- helpers

function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
    return new Promise(resolve => setTimeout(resolve, ms));
}

function mentions(obj, needle) {
    if (obj === undefined || obj === null)
        return false;
    return JSON.stringify(obj).includes(needle);
}

function sameSet(a, b) {
    const sa = new Set(a);
    const sb = new Set(b);
    if (sa.size !== sb.size)
        return false;
    for (const x of sa)
        if (!sb.has(x))
            return false;
    return true;
}

function isObjectSchema(s) {
    return s !== null && typeof s === 'object' && !Array.isArray(s) && s.type === 'object';
}

function sdkVersion() {
    try {
        const here = path.dirname(fileURLToPath(import.meta.url));
        const pj = path.join(here, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json');
        return JSON.parse(fs.readFileSync(pj, 'utf8')).version;
    } catch {
        return 'unknown';
    }
}

// ---------------------------------------------------------------- main

async function main() {
    const opts = parseArgs(process.argv.slice(2));

    let sdk;
    try {
        const [clientMod, stdioMod, typesMod] = await Promise.all([
            import('@modelcontextprotocol/sdk/client/index.js'),
            import('@modelcontextprotocol/sdk/client/stdio.js'),
            import('@modelcontextprotocol/sdk/types.js'),
        ]);
        sdk = {
            Client: clientMod.Client,
            StdioClientTransport: stdioMod.StdioClientTransport,
            getDefaultEnvironment: stdioMod.getDefaultEnvironment,
            McpError: typesMod.McpError,
            ErrorCode: typesMod.ErrorCode,
            LATEST_PROTOCOL_VERSION: typesMod.LATEST_PROTOCOL_VERSION,
        };
    } catch (e) {
        fail('load the MCP SDK', `${errText(e)} (run: npm ci --prefix tests/peers)`);
        process.exit(2);
    }
    process.stderr.write(`sdk_demo: @modelcontextprotocol/sdk ${sdkVersion()}, ` +
        `latest protocol ${sdk.LATEST_PROTOCOL_VERSION}, node ${process.version}\n`);

    // The SDK gives the child only HOME, LOGNAME, PATH, SHELL, TERM and USER
    // unless told otherwise: hand over MCPGATE_HOME and friends explicitly,
    // and the sanitizers' options so that a sanitizer build reports.
    const env = { ...sdk.getDefaultEnvironment() };
    for (const [k, v] of Object.entries(process.env)) {
        if (v === undefined)
            continue;
        if (k.startsWith('MCPGATE_') || /^(ASAN|LSAN|UBSAN|MSAN|TSAN)_OPTIONS$/.test(k))
            env[k] = v;
    }
    if (process.env.MCPGATE_HOME === undefined)
        process.stderr.write('sdk_demo: warning: MCPGATE_HOME is not set\n');

    const transport = new sdk.StdioClientTransport({
        command: opts.mcpgate,
        args: ['mcp', 'connect', opts.server],
        env,
        stderr: 'pipe',
    });
    let bridgeStderr = '';
    transport.stderr?.on('data', chunk => {
        if (bridgeStderr.length < 65536)
            bridgeStderr += chunk.toString('utf8');
    });
    const lastStderr = () => {
        const lines = bridgeStderr.split('\n').map(l => l.trim()).filter(l => l !== '');
        return lines.length ? ` (bridge stderr: ${lines.slice(-3).join(' | ')})` : '';
    };

    // See every message the SDK receives (Protocol.connect chains a handler
    // that is already set), and learn the negotiated protocol version through
    // the hook Client.connect calls when a transport has one (stdio has none).
    const received = [];
    transport.onmessage = message => {
        if (received.length < 1000)
            received.push(message);
    };
    let negotiated;
    transport.setProtocolVersion = version => {
        negotiated = version;
    };

    // The bridge process, to watch it end after close(). The SDK keeps it
    // in the private _process, and drops it as soon as close() starts (which
    // a failed initialize calls by itself): catch it right after the spawn.
    // Without it, fall back to the pid.
    let child = null;
    let childPid = null;
    let childExit = null;
    const sdkStart = transport.start.bind(transport);
    transport.start = async () => {
        await sdkStart();
        childPid = transport.pid;
        const p = transport._process;
        if (p && typeof p.once === 'function') {
            child = p;
            if (p.exitCode !== null || p.signalCode !== null)
                childExit = { code: p.exitCode, signal: p.signalCode };
            else
                p.once('exit', (code, signal) => { childExit = { code, signal }; });
        }
    };

    const client = new sdk.Client({ name: CLIENT_NAME, version: CLIENT_VERSION });
    const sdkErrors = [];
    client.onerror = e => {
        sdkErrors.push(errText(e));
    };

    // The global watchdog: a hang must not wedge the suite.
    const watchdog = setTimeout(() => {
        fail('global timeout', `not done within ${GLOBAL_TIMEOUT_MS / 1000} s${lastStderr()}`);
        const pid = transport.pid ?? childPid;
        if (pid)
            try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        process.exit(1);
    }, GLOBAL_TIMEOUT_MS);

    // ------------------------------------------------------------ connect
    let connected = false;
    const t0 = Date.now();
    try {
        await withTimeout(client.connect(transport, { timeout: CONNECT_TIMEOUT_MS }),
            CONNECT_TIMEOUT_MS + 1000, 'initialize');
        connected = true;
        pass(`connect: initialize answered in ${Date.now() - t0} ms`);
    } catch (e) {
        // let the bridge's last words arrive
        await sleep(200);
        fail('connect: initialize', errText(e) + lastStderr());
    }


    const serverInfo = client.getServerVersion();
    check(`initialize: server name is ${opts.server}`,
        serverInfo !== undefined && serverInfo.name === opts.server,
        `serverInfo is ${JSON.stringify(serverInfo)}`);

    const initResult = received.find(m => m && m.id === 0 && m.result && m.result.protocolVersion !== undefined);
    const rawVersion = initResult ? initResult.result.protocolVersion : undefined;
    if (negotiated === undefined)
        negotiated = rawVersion;
    check(`initialize: protocol version is ${sdk.LATEST_PROTOCOL_VERSION}`,
        connected && negotiated === sdk.LATEST_PROTOCOL_VERSION,
        connected ? `server answered ${JSON.stringify(negotiated)}` : 'not connected');

    const caps = client.getServerCapabilities();
    check('initialize: server capabilities include tools',
        caps !== undefined && caps.tools !== null && typeof caps.tools === 'object',
        `capabilities are ${JSON.stringify(caps)}`);
    const instructions = client.getInstructions();
    if (instructions !== undefined)
        process.stderr.write(`sdk_demo: instructions: ${oneLine(instructions)}\n`);

    // ------------------------------------------------------------ tools/list
    let tools = [];
    let listed = false;
    let listError = '';
    try {
        const res = await client.listTools(undefined, { timeout: REQUEST_TIMEOUT_MS });
        tools = res.tools;
        listed = true;
        if (res.nextCursor !== undefined)
            process.stderr.write(`sdk_demo: tools/list returned a nextCursor; only the first page is checked\n`);
    } catch (e) {
        listError = errText(e) + lastStderr();
    }
    const listedNames = tools.map(t => t.name);
    if (opts.expectTools !== null)
        check(`listTools: tools are exactly ${opts.expectTools.join(',')}`,
            listed && sameSet(listedNames, opts.expectTools) && listedNames.length === opts.expectTools.length,
            listed ? `got ${listedNames.join(',') || '(none)'}` : listError);
    else
        check('listTools: at least one tool', listed && tools.length > 0, listed ? 'the list is empty' : listError);
    if (opts.deniedTool !== null)
        check(`listTools: denied tool ${opts.deniedTool} is not listed`,
            listed && !listedNames.includes(opts.deniedTool), listed ? 'it is in the list' : listError);

    // Every tool we expect or were given, so that the count of lines does not
    // depend on what the gateway got wrong.
    const toolNames = [];
    for (const n of (opts.expectTools ?? []).concat(listedNames))
        if (!toolNames.includes(n))
            toolNames.push(n);

    for (const name of toolNames) {
        const tool = tools.find(t => t.name === name);
        const what = `listTools: ${name} has a description and object inputSchema and outputSchema`;
        if (!tool) {
            fail(what, 'not listed');
            fail(`listTools: ${name} output validation is active`, 'not listed');
            continue;
        }
        const problems = [];
        if (typeof tool.description !== 'string' || tool.description === '')
            problems.push('no description');
        if (!isObjectSchema(tool.inputSchema))
            problems.push(`inputSchema is ${JSON.stringify(tool.inputSchema)}`);
        if (!isObjectSchema(tool.outputSchema))
            problems.push(`outputSchema is ${JSON.stringify(tool.outputSchema)}`);
        check(what, problems.length === 0, problems.join('; '));

        // listTools compiled a validator for the outputSchema; callTool uses
        // it. Prove it is there and rejects what cannot match.
        const validator = typeof client.getToolOutputValidator === 'function'
            ? client.getToolOutputValidator(name) : undefined;
        let why = 'the SDK holds no output validator for it';
        let ok = false;
        if (validator) {
            try {
                const r = validator(42);
                ok = r && r.valid === false;
                why = 'the validator accepted a number';
            } catch (e) {
                why = `the validator threw: ${errText(e)}`;
            }
        }
        check(`listTools: ${name} output validation is active`, ok, why);
    }

    // ------------------------------------------------------------ tools/call
    const structured = {};
    for (const name of toolNames) {
        const what = `callTool ${name}: ok with text content and structuredContent valid against outputSchema`;
        try {
            const res = await client.callTool({ name, arguments: {} }, undefined, { timeout: REQUEST_TIMEOUT_MS });
            const problems = [];
            if (res.isError)
                problems.push(`isError is true: ${JSON.stringify(res.content)}`);
            if (!Array.isArray(res.content) || !res.content.some(c => c && c.type === 'text' && typeof c.text === 'string'))
                problems.push('no text content item');
            if (res.structuredContent === undefined || res.structuredContent === null)
                problems.push('no structuredContent');
            else
                structured[name] = res.structuredContent;
            if (!client.getToolOutputValidator?.(name))
                problems.push('not validated: the tool has no outputSchema in tools/list');
            check(what, problems.length === 0, problems.join('; '));
        } catch (e) {
            fail(what, errText(e));
        }
    }

    const contentCheck = (tool, label, needle) => {
        if (!toolNames.includes(tool))
            return;
        const sc = structured[tool];
        check(`callTool ${tool}: structuredContent ${label}`,
            sc !== undefined && mentions(sc, needle),
            sc === undefined ? 'no structuredContent' : `${JSON.stringify(needle)} not in ${JSON.stringify(sc)}`);
    };
    if (opts.user !== null)
        contentCheck('mcpgate_user_info', `names the user ${opts.user}`, opts.user);
    contentCheck('mcpgate_session_info', `names the server ${opts.server}`, opts.server);
    contentCheck('mcpgate_session_info', `names the client ${CLIENT_NAME}`, CLIENT_NAME);
    contentCheck('mcpgate_session_info', `names the client version ${CLIENT_VERSION}`, CLIENT_VERSION);
    contentCheck('mcpgate_session_info', `names the protocol version ${negotiated ?? sdk.LATEST_PROTOCOL_VERSION}`,
        negotiated ?? sdk.LATEST_PROTOCOL_VERSION);
    contentCheck('mcpgate_access_info', `lists the server ${opts.server}`, opts.server);
    contentCheck('mcpgate_demo_info', 'mentions mcpgate', 'mcpgate');
    if (opts.gatewayName !== null) {
        const where = ['mcpgate_demo_info', 'mcpgate_session_info'].filter(n => structured[n] !== undefined);
        check(`callTool: mcpgate_demo_info or mcpgate_session_info names the gateway ${opts.gatewayName}`,
            where.some(n => mentions(structured[n], opts.gatewayName)),
            where.length === 0 ? 'neither returned structuredContent'
                : `${JSON.stringify(opts.gatewayName)} not in ${where.join(' or ')}`);
    }

    // ------------------------------------------------------------ refusals
    if (opts.deniedTool !== null) {
        const what = `callTool ${opts.deniedTool} (denied): JSON-RPC error -32602 naming the tool`;
        try {
            const res = await client.callTool({ name: opts.deniedTool, arguments: {} }, undefined,
                { timeout: REQUEST_TIMEOUT_MS });
            fail(what, `the call was answered: ${JSON.stringify(res).slice(0, 200)}`);
        } catch (e) {
            const problems = [];
            if (!(e instanceof sdk.McpError))
                problems.push(`not an McpError: ${errText(e)}`);
            else {
                if (e.code !== sdk.ErrorCode.InvalidParams)
                    problems.push(`code ${e.code}, not ${sdk.ErrorCode.InvalidParams}`);
                if (!String(e.message).includes(opts.deniedTool))
                    problems.push(`message does not name the tool: ${e.message}`);
            }
            check(what, problems.length === 0, problems.join('; '));
        }
    }
    {
        const what = `callTool ${UNKNOWN_TOOL} (no such tool): fails naming the tool`;
        try {
            const res = await client.callTool({ name: UNKNOWN_TOOL, arguments: {} }, undefined,
                { timeout: REQUEST_TIMEOUT_MS });
            // A tool error result is tolerated if it names the tool.
            check(what, res.isError === true && mentions(res.content, UNKNOWN_TOOL),
                `the call was answered: ${JSON.stringify(res).slice(0, 200)}`);
        } catch (e) {
            const problems = [];
            if (!(e instanceof sdk.McpError))
                problems.push(`not an McpError: ${errText(e)}`);
            else if (e.code === sdk.ErrorCode.RequestTimeout || e.code === sdk.ErrorCode.ConnectionClosed)
                problems.push(errText(e));
            else if (!String(e.message).includes(UNKNOWN_TOOL))
                problems.push(`message does not name the tool: ${e.message}`);
            check(what, problems.length === 0, problems.join('; '));
        }
    }

    // ------------------------------------------------------------ ping, lists
    try {
        await client.ping({ timeout: REQUEST_TIMEOUT_MS });
        pass('ping');
    } catch (e) {
        fail('ping', errText(e));
    }

    // Claude's clients send these even when the server did not advertise
    // them: an empty list or -32601 at once, never silence.
    const listCheck = async (method, call, key) => {
        const what = `${method}: answered with a list or -32601`;
        try {
            const res = await call();
            check(what, Array.isArray(res[key]), `answer has no ${key} array: ${JSON.stringify(res)}`);
        } catch (e) {
            check(what, e instanceof sdk.McpError && e.code === sdk.ErrorCode.MethodNotFound, errText(e));
        }
    };
    await listCheck('resources/list', () => client.listResources(undefined, { timeout: REQUEST_TIMEOUT_MS }), 'resources');
    await listCheck('prompts/list', () => client.listPrompts(undefined, { timeout: REQUEST_TIMEOUT_MS }), 'prompts');

    // ------------------------------------------------------------ protocol hygiene
    // Non-JSON lines on the bridge's stdout, messages the SDK's schemas
    // refuse (an error with "id": null, unknown top-level keys) and responses
    // to ids the client never sent all land here.
    check('no protocol errors seen by the SDK', sdkErrors.length === 0,
        `${sdkErrors.length}: ${sdkErrors.slice(0, 3).join(' | ')}`);

    // ------------------------------------------------------------ close
    // close() ends the bridge's stdin, waits 2 s, then SIGTERM, 2 s, SIGKILL.
    const tClose = Date.now();
    try {
        await withTimeout(client.close(), CLOSE_TIMEOUT_MS + 1000, 'close()');
    } catch (e) {
        process.stderr.write(`sdk_demo: close: ${errText(e)}\n`);
    }
    if (child) {
        const deadline = tClose + CLOSE_TIMEOUT_MS;
        while (childExit === null && Date.now() < deadline)
            await sleep(50);
        check(`close: the bridge exits within ${CLOSE_TIMEOUT_MS / 1000} s`, childExit !== null,
            `pid ${child.pid} still running`);
        check('close: the bridge exits by itself on stdin EOF with status 0',
            childExit !== null && childExit.signal === null && childExit.code === 0,
            childExit === null ? 'it did not exit'
                : childExit.signal !== null ? `it needed ${childExit.signal}`
                    : `exit status ${childExit.code}`);
        if (childExit === null)
            try { child.kill('SIGKILL'); } catch { /* gone */ }
    } else if (childPid) {
        let alive = true;
        const deadline = tClose + CLOSE_TIMEOUT_MS;
        while (Date.now() < deadline) {
            try { process.kill(childPid, 0); } catch { alive = false; break; }
            await sleep(50);
        }
        check(`close: the bridge exits within ${CLOSE_TIMEOUT_MS / 1000} s`, !alive, `pid ${childPid} still running`);
        fail('close: the bridge exits by itself on stdin EOF with status 0', 'its exit status is unknown');
    } else {
        fail(`close: the bridge exits within ${CLOSE_TIMEOUT_MS / 1000} s`, 'no bridge process was running');
        fail('close: the bridge exits by itself on stdin EOF with status 0', 'no bridge process was running');
    }

    clearTimeout(watchdog);
    if (nfail > 0 && bridgeStderr !== '')
        process.stderr.write(`sdk_demo: bridge stderr:\n${bridgeStderr.replace(/^/gm, '  ')}\n`);
    process.exit(0);
}

main().catch(e => {
    fail('sdk_demo crashed', e && e.stack ? e.stack : errText(e));
    process.exit(2);
});
