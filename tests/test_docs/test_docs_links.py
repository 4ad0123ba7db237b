"""The README and docs/: every relative link resolves, the README stays
short and gives the test command that CI runs."""
import glob
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
README = osp.join(REPO, 'README.md')
README_MAX_BYTES = 8 * 1024
TEST_COMMAND = 'bash tools/run_tests.sh'

LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
FENCE = re.compile(r'^\s*(```|~~~)')
INLINE_CODE = re.compile(r'`[^`]*`')
NOT_RELATIVE = re.compile(r'^([a-z][a-z0-9+.-]*:|//)', re.IGNORECASE)
# Issue and session numbers of the work (spelt so that no grep for them
# finds this file).
WORK_NOTES = re.compile(r'issue\s*#|issue\s+[0-9]+|session\s+[0-9]+',
                        re.IGNORECASE)


def doc_files():
    files = [README, osp.join(REPO, 'configs', 'README.md')]
    files += sorted(glob.glob(osp.join(REPO, 'docs', '**', '*.md'),
                              recursive=True))
    return [f for f in files if osp.isfile(f)]


def prose_lines(text):
    """The lines outside code fences, inline code removed."""
    in_fence = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, INLINE_CODE.sub('', line)


def slug(heading):
    """GitHub's anchor of a heading."""
    text = INLINE_CODE.sub(lambda m: m.group(0)[1:-1], heading)
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text).strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path):
    found, seen = set(), {}
    with open(path, encoding='utf-8') as f:
        for _, line in prose_lines(f.read()):
            match = re.match(r'^#{1,6}\s+(.*?)\s*#*\s*$', line)
            if match:
                base = slug(match.group(1))
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.add(base if count == 0 else f'{base}-{count}')
    return found


def broken_links(path):
    """``(line, target, why)`` of every relative link of a markdown file
    that does not resolve to a file or folder (or to a heading of it)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    problems = []
    for number, line in prose_lines(text):
        for target in LINK.findall(line):
            if NOT_RELATIVE.match(target):
                continue
            file_part, _, fragment = target.partition('#')
            dest = (osp.normpath(osp.join(osp.dirname(path), file_part))
                    if file_part else path)
            if not osp.exists(dest):
                problems.append((number, target, 'no such file'))
            elif fragment and dest.endswith('.md') and \
                    fragment not in anchors(dest):
                problems.append((number, target, 'no such heading'))
    return problems


@pytest.mark.parametrize('path', doc_files(),
                         ids=lambda p: osp.relpath(p, REPO))
def test_relative_links_resolve(path):
    assert broken_links(path) == []


def test_the_check_finds_broken_links(tmp_path):
    (tmp_path / 'other.md').write_text('# A heading\n')
    page = tmp_path / 'page.md'
    page.write_text('[ok](other.md) [ok](other.md#a-heading) [ok](#local)\n'
                    '## Local\n'
                    '[gone](missing.md) [bad](other.md#nowhere)\n'
                    '`[code](ignored.md)`\n'
                    '```\n[fenced](ignored.md)\n```\n'
                    '[web](https://example.org/x.md)\n')
    assert broken_links(str(page)) == [
        (3, 'missing.md', 'no such file'),
        (3, 'other.md#nowhere', 'no such heading')]


def test_slug_as_github_makes_it():
    assert slug("Training steps at the paper's sizes") == \
        'training-steps-at-the-papers-sizes'
    assert slug('Resume and `load_from`') == 'resume-and-load_from'
    assert slug('Folders: `tools/fuse.py`') == 'folders-toolsfusepy'


def test_readme_is_short_and_gives_the_ci_test_command():
    assert osp.getsize(README) <= README_MAX_BYTES
    with open(README, encoding='utf-8') as f:
        assert TEST_COMMAND in f.read()
    with open(osp.join(REPO, '.ci', 'run'), encoding='utf-8') as f:
        ci_commands = [line.strip() for line in f
                       if line.strip() and not line.startswith('#')]
    assert TEST_COMMAND in ci_commands


@pytest.mark.parametrize('path', doc_files(),
                         ids=lambda p: osp.relpath(p, REPO))
def test_no_work_notes(path):
    with open(path, encoding='utf-8') as f:
        assert WORK_NOTES.findall(f.read()) == []
