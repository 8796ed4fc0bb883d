/**
 * DocumentProblem[] (shared/images/document.ts) → Monaco marker data. Pure, so that it is unit
 * tested without a DOM and without loading Monaco.
 */
import type { editor } from 'monaco-editor/editor/editor.api';
import type { DocumentProblem } from '../../shared/images/document';

/** A marker as Monaco takes it, but with the problem's severity (Monaco's enum is mapped on use). */
export type ProblemMarker = Omit<editor.IMarkerData, 'severity'> & {
  severity: DocumentProblem['severity'];
};

/** The owner of Hangar's own markers; monaco-yaml's schema markers are kept apart ("yaml"). */
export const MARKER_OWNER = 'hangar';

/** The text a marker sits in: enough of the model to place and clamp a position. */
export interface MarkerText {
  lineCount: number;
  /** Length of line `line` (1-based), without its line break. */
  lineLength: (line: number) => number;
}

const clamp = (value: number, min: number, max: number) => Math.min(Math.max(value, min), max);

/**
 * One marker per problem. A problem without a line (a whole-document problem such as a missing
 * field) is shown on line 1; lines and columns past the end are clamped into the text. A marker
 * with a column covers the word that starts there; one without covers its whole line.
 */
export function problemsToMarkers(
  problems: readonly DocumentProblem[],
  text: MarkerText,
): ProblemMarker[] {
  const lineCount = Math.max(1, text.lineCount);
  return problems.map((problem) => {
    const line = clamp(Math.trunc(problem.line ?? 1), 1, lineCount);
    const length = text.lineLength(line);
    const endColumn = length + 1;
    let startColumn = 1;
    let markerEnd = endColumn;
    if (problem.line !== undefined && problem.column !== undefined) {
      startColumn = clamp(Math.trunc(problem.column), 1, endColumn);
      // At least one character wide, so that the squiggle shows even at the end of a line.
      markerEnd = Math.max(endColumn, startColumn + 1);
    } else if (length === 0) {
      markerEnd = 2;
    }
    return {
      severity: problem.severity,
      message: problem.message,
      source: problem.path === '' ? undefined : problem.path,
      startLineNumber: line,
      startColumn,
      endLineNumber: line,
      endColumn: markerEnd,
    };
  });
}

/** The MarkerText of a string, for tests and for callers without a model. */
export function markerTextOf(value: string): MarkerText {
  const lines = value.split(/\r\n|\r|\n/);
  return { lineCount: lines.length, lineLength: (line) => lines[line - 1]?.length ?? 0 };
}
