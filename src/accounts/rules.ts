/** What makes an email and a password acceptable: one rule for the API, the CLI and start-up. */
export const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
export const PASSWORD_LENGTH = Object.freeze({ min: 8, max: 1024 });

/** Emails are compared trimmed and lower-cased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export const isEmail = (email: string): boolean => EMAIL.test(normalizeEmail(email));

export const isPasswordLength = (password: string): boolean => password.length >= PASSWORD_LENGTH.min && password.length <= PASSWORD_LENGTH.max;
