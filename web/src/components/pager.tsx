/** "Showing 51–100 of 230" with previous and next buttons. */
import { number } from '../format.ts';

interface PagerProps {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number) => void;
  label: string;
}

export function Pager({ offset, limit, total, onChange, label }: PagerProps) {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <p className="pager-summary">
        Showing {number(first)}–{number(last)} of {number(total)}
        {pages > 1 ? ` (page ${page} of ${pages})` : ''}
      </p>
      {pages > 1 ? (
        <div className="pager-buttons">
          <button
            type="button"
            className="button button--secondary"
            disabled={offset === 0}
            onClick={() => onChange(Math.max(0, offset - limit))}
          >
            Previous<span className="visually-hidden"> page</span>
          </button>
          <button
            type="button"
            className="button button--secondary"
            disabled={offset + limit >= total}
            onClick={() => onChange(offset + limit)}
          >
            Next<span className="visually-hidden"> page</span>
          </button>
        </div>
      ) : null}
    </nav>
  );
}
