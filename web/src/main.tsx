import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import './styles.css';

// `/` is the first-run tour (served only while every CRM is a sandbox); the portal does not load its code.
const TourApp = lazy(() => import('./tour/tour.tsx').then((m) => ({ default: m.TourApp })));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {window.location.pathname === '/' ? (
      <Suspense fallback={null}>
        <TourApp />
      </Suspense>
    ) : (
      <App />
    )}
  </StrictMode>,
);
