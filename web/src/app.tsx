/**
 * The app: the session decides which screen shows (login, second step, enrolment, password
 * change, lock, or the signed-in shell); the hash decides which page the shell shows.
 */
import { useEffect, useRef, useState, type MouseEvent, type ReactNode } from 'react';
import { Loading } from './components/alerts.tsx';
import { CurrentSchoolProvider, useCurrentSchool } from './current-school.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { SignInsPage } from './pages/sign-ins.tsx';
import { UnblockRequestsPage } from './pages/unblock-requests.tsx';
import { FilterLogPage } from './pages/filter-log.tsx';
import { FilteringHistoryPage } from './pages/filtering-history.tsx';
import { FilteringListsPage } from './pages/filtering-lists.tsx';
import { FilteringOverridesPage } from './pages/filtering-overrides.tsx';
import { FilteringPolicyPage } from './pages/filtering-policy.tsx';
import { GroupDetailPage } from './pages/group-detail.tsx';
import { GroupsPage } from './pages/groups.tsx';
import { LockScreen } from './pages/lock-screen.tsx';
import { LoginPage } from './pages/login.tsx';
import { MfaEnrolPage } from './pages/mfa-enrol.tsx';
import { MfaVerifyPage } from './pages/mfa-verify.tsx';
import { MyAccountPage } from './pages/my-account.tsx';
import { NotAllowedPage, NotFoundPage } from './pages/not-found.tsx';
import { PasswordChangePage } from './pages/password-change.tsx';
import { PeopleImportPage } from './pages/people-import.tsx';
import { PeoplePage } from './pages/people.tsx';
import { PersonDetailPage } from './pages/person-detail.tsx';
import { PersonNewPage } from './pages/person-new.tsx';
import { SchoolsPage } from './pages/schools.tsx';
import { UsersPage } from './pages/users.tsx';
import { navigate, useRoute, type Route } from './router.tsx';
import { SessionProvider, useSession } from './session.tsx';

export function App() {
  return (
    <SessionProvider>
      <Gate />
    </SessionProvider>
  );
}

function Gate() {
  const { session, loading } = useSession();
  if (loading) {
    return (
      <main id="main" className="splash">
        <Loading label="Opening Haven…" />
      </main>
    );
  }
  if (!session) return <LoginPage />;
  switch (session.state) {
    case 'mfa_required':
      return <MfaVerifyPage />;
    case 'mfa_enrolment_required':
      return <MfaEnrolPage />;
    case 'password_change_required':
      return <PasswordChangePage />;
    case 'locked':
      return <LockScreen />;
    case 'active':
      return (
        <CurrentSchoolProvider>
          <ShellWhenReady />
        </CurrentSchoolProvider>
      );
  }
}

interface NavItem {
  to: string;
  label: string;
  /** The first path segment the item stands for ("" for the dashboard). */
  section: string;
  ability?: string;
}

const NAV: readonly NavItem[] = [
  { to: '/', label: 'Dashboard', section: '' },
  { to: '/people', label: 'People', section: 'people', ability: 'person:read' },
  { to: '/groups', label: 'Groups', section: 'groups', ability: 'group:read' },
  { to: '/filtering', label: 'Filtering', section: 'filtering', ability: 'filtering:read' },
  { to: '/overrides', label: 'Overrides', section: 'overrides', ability: 'filter_override:read' },
  { to: '/requests', label: 'Requests', section: 'requests', ability: 'unblock_request:read' },
  { to: '/devices', label: 'Devices', section: 'devices', ability: 'device:read' },
  { to: '/sign-ins', label: 'Sign-ins', section: 'sign-ins', ability: 'device:read' },
  { to: '/filter-log', label: 'DNS log', section: 'filter-log', ability: 'filter_log:read' },
  { to: '/schools', label: 'Schools', section: 'schools' },
  { to: '/users', label: 'Users', section: 'users', ability: 'user:read' },
  { to: '/audit', label: 'Audit log', section: 'audit', ability: 'audit:read' },
  { to: '/account', label: 'My account', section: 'account' },
];

/** Waits for the list of schools, so every page can name the school it is about from the start. */
function ShellWhenReady() {
  const { loading } = useCurrentSchool();
  if (loading) {
    return (
      <main id="main" className="splash">
        <Loading label="Opening Haven…" />
      </main>
    );
  }
  return <Shell />;
}

function Shell() {
  const { session, logout, can } = useSession();
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const section = route.segments[0] ?? '';

  useEffect(() => setMenuOpen(false), [route.path]);

  const skip = (e: MouseEvent<HTMLAnchorElement>) => {
    // A plain "#main" link would be taken as a route, so move focus by hand.
    e.preventDefault();
    main.current?.focus();
  };

  const items = NAV.filter((item) => !item.ability || can(item.ability));

  return (
    <div className="shell">
      <a className="skip-link" href="#main" onClick={skip}>
        Skip to main content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="site-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span className="menu-icon" aria-hidden="true" />
          Menu
        </button>
        <a className="brand" href="#/">
          <span className="brand-mark" aria-hidden="true" />
          Haven
        </a>
        <SchoolSwitcher />
        <div className="topbar-user">
          <span className="topbar-name" title={session?.user.email}>
            {session?.user.displayName || session?.user.email}
          </span>
          <button type="button" className="button button--secondary button--small" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <div className="layout">
        <nav id="site-nav" className={`sidenav${menuOpen ? ' sidenav--open' : ''}`} aria-label="Main">
          <ul>
            {items.map((item) => (
              <li key={item.to}>
                <a href={`#${item.to}`} aria-current={section === item.section ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" ref={main} tabIndex={-1} className="content">
          <Routes route={route} />
        </main>
      </div>
    </div>
  );
}

function SchoolSwitcher() {
  const { schools, current, setCurrent } = useCurrentSchool();
  const route = useRoute();
  if (schools.length === 0 || !current) return <div className="switcher" />;
  if (schools.length === 1) {
    return (
      <div className="switcher">
        <span className="switcher-single">{current.name}</span>
      </div>
    );
  }
  const change = (id: string) => {
    setCurrent(id);
    // A person or group page belongs to the old school: go back to that list in the new one.
    const first = route.segments[0];
    if ((first === 'people' || first === 'groups') && route.segments.length > 1) navigate(`/${first}`);
    else if (first === 'people' && route.params.size > 0) navigate('/people');
  };
  return (
    <div className="switcher">
      <label htmlFor="school-switcher">Working in</label>
      <select id="school-switcher" value={current.id} onChange={(e) => change(e.target.value)}>
        {schools.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function Guard({ ability, children }: { ability: string; children: ReactNode }) {
  const { can } = useSession();
  return can(ability) ? <>{children}</> : <NotAllowedPage />;
}

function Routes({ route }: { route: Route }) {
  const [first, second, ...rest] = route.segments;
  // key: a new page instance for every address, so each starts fresh and takes focus.
  if (rest.length > 0) return <NotFoundPage />;
  switch (first) {
    case undefined:
      return <DashboardPage />;
    case 'schools':
      return second ? <NotFoundPage /> : <SchoolsPage />;
    case 'people':
      if (second === undefined)
        return (
          <Guard ability="person:read">
            <PeoplePage />
          </Guard>
        );
      if (second === 'new')
        return (
          <Guard ability="person:create">
            <PersonNewPage />
          </Guard>
        );
      if (second === 'import')
        return (
          <Guard ability="person:import">
            <PeopleImportPage />
          </Guard>
        );
      return (
        <Guard ability="person:read">
          <PersonDetailPage key={second} personId={second} />
        </Guard>
      );
    case 'groups':
      return (
        <Guard ability="group:read">{second === undefined ? <GroupsPage /> : <GroupDetailPage key={second} groupId={second} />}</Guard>
      );
    case 'filtering':
      if (second === undefined)
        return (
          <Guard ability="filtering:read">
            <FilteringPolicyPage />
          </Guard>
        );
      if (second === 'history')
        return (
          <Guard ability="filtering:read">
            <FilteringHistoryPage />
          </Guard>
        );
      if (second === 'lists')
        return (
          <Guard ability="filtering:read">
            <FilteringListsPage />
          </Guard>
        );
      return <NotFoundPage />;
    case 'overrides':
      return second ? (
        <NotFoundPage />
      ) : (
        <Guard ability="filter_override:read">
          <FilteringOverridesPage />
        </Guard>
      );
    case 'filter-log':
      return second ? (
        <NotFoundPage />
      ) : (
        <Guard ability="filter_log:read">
          <FilterLogPage />
        </Guard>
      );
    case 'devices':
      return second ? (
        <NotFoundPage />
      ) : (
        <Guard ability="device:read">
          <DevicesPage />
        </Guard>
      );
    case 'requests':
      return second ? (
        <NotFoundPage />
      ) : (
        <Guard ability="unblock_request:read">
          <UnblockRequestsPage />
        </Guard>
      );
    case 'sign-ins':
      return second ? (
        <NotFoundPage />
      ) : (
        <Guard ability="device:read">
          <SignInsPage />
        </Guard>
      );
    case 'users':
      return second ? (
        <NotFoundPage />
      ) : (
        <Guard ability="user:read">
          <UsersPage />
        </Guard>
      );
    case 'audit':
      return second ? (
        <NotFoundPage />
      ) : (
        <Guard ability="audit:read">
          <AuditLogPage />
        </Guard>
      );
    case 'account':
      return second ? <NotFoundPage /> : <MyAccountPage />;
    default:
      return <NotFoundPage />;
  }
}
