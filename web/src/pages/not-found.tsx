import { Page } from '../components/page.tsx';

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>There is no page at this address. It may have moved, or the link may be wrong.</p>
      <p>
        <a href="#/">Go to the home page</a>
      </p>
    </Page>
  );
}

export function NotAllowedPage() {
  return (
    <Page title="Not available to you">
      <p>Your role does not give you access to this page. If you need it, ask your Haven administrator.</p>
      <p>
        <a href="#/">Go to the home page</a>
      </p>
    </Page>
  );
}
