/* banned.h -- libc functions this project does not call.
 *
 * Each is unsafe (no bound: strcpy, strcat, sprintf, gets), not re-entrant (strtok, localtime,
 * gmtime) or easy to misuse (strncpy does not terminate). Calling one is a compile error that
 * names the function. Use core_strlcpy(), snprintf(), strtok_r(), localtime_r()/gmtime_r().
 * Included by core.h; include system headers before project headers.
 */
#ifndef BANNED_H
#define BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_this_project

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef gmtime
#define gmtime(x) BANNED(gmtime)

#endif /* BANNED_H */
