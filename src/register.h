/*-------------------------------------------------------------------------
 *
 * register.h
 *	  Registering patches and placeholder values.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_REGISTER_H
#define ZERODOWN_REGISTER_H

extern const char *ZdRegisterPatch(int number, const char *name,
								   const char *build_sql,
								   const char *rollback_sql,
								   const char *verify_sql,
								   const char *source);

#endif							/* ZERODOWN_REGISTER_H */
