// The masked result rows the journal kept for a statement, as the caller received them.
import type { KeptResults } from '../types';

export function ResultsTable({ results }: { results: KeptResults }) {
  return (
    <div class="overflow-auto" data-testid="event-results">
      <table class="striped results">
        <thead>
          <tr>
            {results.columns.map((column, index) => (
              <th key={index} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {results.rows.map((row, rowIndex) => (
            <tr key={rowIndex}>
              {row.map((value, columnIndex) => (
                <td key={columnIndex}>{value === null ? <em class="null">NULL</em> : value}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <small>
        {results.rows.length} row{results.rows.length === 1 ? '' : 's'} kept
        {results.truncated && ' — truncated: more came back than the journal keeps'}.
      </small>
    </div>
  );
}
