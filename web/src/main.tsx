import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { ConsoleApp, consoleInstallation } from './console/console-app.tsx';
import './styles.css';

// One front end: the admin console under /console/<installationId>, the referrer portal under
// /portal/, and at `/` the first-run tour (served only while every CRM is a sandbox), whose code
// the others do not load.
const TourApp = lazy(() => import('./tour/tour.tsx').then((m) => ({ default: m.TourApp })));
const consoleOf = consoleInstallation(window.location.pathname);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {consoleOf ? (
      <ConsoleApp installationId={consoleOf} />
    ) : window.location.pathname === '/' ? (
      <Suspense fallback={null}>
        <TourApp />
      </Suspense>
    ) : (
      <App />
    )}
  </StrictMode>,
);
