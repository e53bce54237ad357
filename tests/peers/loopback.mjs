// loopback.mjs: loaded with `node --import .../loopback.mjs SCRIPT`, it
// makes every TCP net.Server of SCRIPT listen on 127.0.0.1, whatever host
// it was given or left out: express's app.listen(PORT) would bind every
// interface, and the tests may use loopback only. Servers on a Unix
// socket or a handle are left alone.
//
// With LOOPBACK_PORT_FILE set, the port each TCP server got is appended
// to that file, a line each, once it listens: a server told PORT=0 (such
// as server-everything, whose `process.env.PORT || 3001` takes "0" as
// it is) then listens on a free port chosen by the kernel, and the test
// learns which without guessing a free one and racing others for it.

import fs from 'node:fs';
import net from 'node:net';
import process from 'node:process';

const HOST = '127.0.0.1';
const listen = net.Server.prototype.listen;

// A string that is all digits is a port to net; any other is a pipe.
function isPort(v) {
    return typeof v === 'number' || (typeof v === 'string' && /^[0-9]+$/.test(v));
}

net.Server.prototype.listen = function (...args) {
    let opts = null;
    let cb;
    if (typeof args[args.length - 1] === 'function')
        cb = args.pop();
    if (args.length === 0 || args[0] === undefined || args[0] === null) {
        opts = { port: 0 };
    } else if (isPort(args[0])) {
        // listen(port[, host][, backlog]): the host, if any, is dropped.
        opts = { port: Number(args[0]) };
        const rest = args.slice(1).filter(a => typeof a === 'number');
        if (rest.length > 0)
            opts.backlog = rest[0];
    } else if (typeof args[0] === 'object' && args[0].path === undefined &&
        args[0].handle === undefined && args[0].fd === undefined &&
        !(args[0] instanceof net.Server) && args[0]._handle === undefined) {
        opts = { ...args[0], port: Number(args[0].port ?? 0) };
        delete opts.ipv6Only;
    }
    if (opts === null)
        return listen.call(this, ...args, ...(cb ? [cb] : []));
    opts.host = HOST;
    const file = process.env.LOOPBACK_PORT_FILE;
    if (file)
        this.once('listening', () => {
            const a = this.address();
            if (a && typeof a === 'object')
                fs.appendFileSync(file, `${a.port}\n`);
        });
    return listen.call(this, opts, ...(cb ? [cb] : []));
};
