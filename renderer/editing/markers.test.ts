import { describe, expect, it } from 'vitest';
import type { DocumentProblem } from '../../shared/images/document';
import { markerTextOf, problemsToMarkers } from './markers';

const YAML = 'auto_update: false\nproperties:\n  os: Ubuntu\npublic: maybe\n';

describe('problemsToMarkers', () => {
  it('places a problem at its 1-based line and column, to the end of that line', () => {
    const problems: DocumentProblem[] = [
      {
        path: 'public',
        message: 'public must be true or false',
        line: 4,
        column: 9,
        severity: 'error',
      },
    ];
    expect(problemsToMarkers(problems, markerTextOf(YAML))).toEqual([
      {
        severity: 'error',
        message: 'public must be true or false',
        source: 'public',
        startLineNumber: 4,
        startColumn: 9,
        endLineNumber: 4,
        endColumn: 14,
      },
    ]);
  });

  it('puts a problem without a line on line 1, covering the whole line', () => {
    const [marker] = problemsToMarkers(
      [{ path: 'profiles', message: 'profiles is missing', severity: 'warning' }],
      markerTextOf(YAML),
    );
    expect(marker).toMatchObject({
      severity: 'warning',
      startLineNumber: 1,
      startColumn: 1,
      endLineNumber: 1,
      endColumn: 'auto_update: false'.length + 1,
    });
  });

  it('ignores a column given without a line', () => {
    const [marker] = problemsToMarkers(
      [{ path: 'x', message: 'm', column: 7, severity: 'error' }],
      markerTextOf(YAML),
    );
    expect(marker).toMatchObject({ startLineNumber: 1, startColumn: 1 });
  });

  it('clamps positions past the end into the text, at least one character wide', () => {
    const text = markerTextOf('a: 1\nb: 2');
    const markers = problemsToMarkers(
      [
        { path: 'x', message: 'past the last line', line: 40, column: 2, severity: 'error' },
        { path: 'y', message: 'past the line end', line: 1, column: 99, severity: 'error' },
        { path: 'z', message: 'before the start', line: 0, column: -3, severity: 'error' },
      ],
      text,
    );
    expect(markers.map((m) => [m.startLineNumber, m.startColumn, m.endColumn])).toEqual([
      [2, 2, 5],
      [1, 5, 6],
      [1, 1, 5],
    ]);
  });

  it('gives an empty document a visible marker on line 1', () => {
    const [marker] = problemsToMarkers(
      [{ path: '', message: 'The document is empty.', severity: 'error' }],
      markerTextOf(''),
    );
    expect(marker).toEqual({
      severity: 'error',
      message: 'The document is empty.',
      source: undefined,
      startLineNumber: 1,
      startColumn: 1,
      endLineNumber: 1,
      endColumn: 2,
    });
  });

  it('counts CRLF and CR line breaks like Monaco', () => {
    const text = markerTextOf('a: 1\r\nbb: 2\rccc: 3');
    expect(text.lineCount).toBe(3);
    expect([1, 2, 3].map(text.lineLength)).toEqual([4, 5, 6]);
  });
});
