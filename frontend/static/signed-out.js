// The sign-out window's only job once the provider has ended its session.
window.close();
