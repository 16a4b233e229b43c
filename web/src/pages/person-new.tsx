import { Page } from '../components/page.tsx';
import { PersonForm } from '../components/person-form.tsx';
import { SchoolRequired } from '../components/school-required.tsx';
import { useCurrentSchool } from '../current-school.tsx';
import { navigate } from '../router.tsx';

export function PersonNewPage() {
  const { current } = useCurrentSchool();
  return (
    <Page
      title="Add person"
      back={{ to: '/people', label: 'Back to the list' }}
      lead={current ? <p>Add someone to {current.name} by hand. To add many people at once, import a CSV file.</p> : null}
    >
      <SchoolRequired ability="person:create">
        {(school) => (
          <div className="panel">
            <PersonForm
              schoolId={school.id}
              onSaved={(person) => navigate(`/people/${encodeURIComponent(person.id)}?added=1`)}
              onCancel={() => navigate('/people')}
            />
          </div>
        )}
      </SchoolRequired>
    </Page>
  );
}
