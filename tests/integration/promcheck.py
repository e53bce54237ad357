#!/usr/bin/env python3
"""Check that a file is in the Prometheus text exposition format 0.0.4.

Every line is blank, a comment, or `name{labels} value`; names and label
names are valid; each family has HELP and TYPE at most once, TYPE before
its samples, samples of a family together; counters end in _total; no
series appears twice.  Prints what is wrong and exits 1, or exits 0.
Usage: promcheck.py FILE (- for standard input).
"""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(' + NAME + r')(\{(?:' + LABEL + '=' + VALUE +
                    r'(?:,' + LABEL + '=' + VALUE + r')*,?)?\})? (\S+)$')
HELP = re.compile(r'^# HELP (' + NAME + r') (?:[^\\\n]|\\[\\n])*$')
TYPE = re.compile(r'^# TYPE (' + NAME + r') '
                  r'(counter|gauge|histogram|summary|untyped)$')
PAIR = re.compile('(' + LABEL + ')=(' + VALUE + ')')


def check(text):
    errors = []
    helps, types, done, series = set(), {}, set(), set()
    current = None
    for n, line in enumerate(text.split('\n'), 1):
        if line == '' or (line.startswith('#') and
                          not line.startswith(('# HELP', '# TYPE'))):
            continue
        m = HELP.match(line)
        if m:
            if m.group(1) in helps:
                errors.append('%d: HELP of %s twice' % (n, m.group(1)))
            helps.add(m.group(1))
            continue
        m = TYPE.match(line)
        if m:
            name = m.group(1)
            if name in types:
                errors.append('%d: TYPE of %s twice' % (n, name))
            if name in done or name == current:
                errors.append('%d: TYPE of %s after its samples' % (n, name))
            if m.group(2) == 'counter' and not name.endswith('_total'):
                errors.append('%d: counter %s without _total' % (n, name))
            types[name] = m.group(2)
            if current is not None:
                done.add(current)
            current = name
            continue
        m = SAMPLE.match(line)
        if not m:
            errors.append('%d: not a sample or comment: %r' % (n, line))
            continue
        name = m.group(1)
        if name not in types:
            errors.append('%d: %s has no TYPE before it' % (n, name))
        elif name != current:
            errors.append('%d: %s apart from its family' % (n, name))
        try:
            float(m.group(3))
        except ValueError:
            errors.append('%d: bad value %r' % (n, m.group(3)))
        labels = tuple(sorted(PAIR.findall(m.group(2) or '')))
        names = [k for k, _ in labels]
        if len(set(names)) != len(names):
            errors.append('%d: a label twice' % n)
        if (name, labels) in series:
            errors.append('%d: series twice: %s' % (n, line))
        series.add((name, labels))
    return errors


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else '-'
    text = sys.stdin.read() if path == '-' else open(path).read()
    errors = check(text)
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main()
