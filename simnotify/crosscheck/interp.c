/*
 * simnotify cross-check interpreter: runs the Winsock calls a line protocol names.
 *
 * Part of simnotify (MIT licence). Build it with a Windows C compiler:
 *     x86_64-w64-mingw32-gcc -O2 -o simnotify-interp.exe interp.c -lws2_32 -luser32
 *     cl /O2 interp.c ws2_32.lib user32.lib                    (Visual Studio prompt)
 *
 * Coordinator mode, what a user runs:  simnotify-interp --run SCRIPT [TRANSCRIPT]
 * starts one child per "@process NAME" line of SCRIPT (a copy of this program), sends each
 * "NAME ID COMMAND" line to its child in file order, fills in $VARIABLES kept from earlier
 * replies (">VAR=FIELD" keeps a reply's FIELD=value), obeys "@sleep MS", "@timeout MS" and
 * "@end", and writes the transcript, every command line with " => " and its reply, to
 * TRANSCRIPT (or to standard output). "ID start COMMAND" sends without waiting; a later
 * "ID finish [MS]" collects that reply. `simnotify crosscheck --record` writes scripts.
 *
 * Child mode (--child): one simulated process. One command per line on stdin, one reply
 * per line on stdout:
 *     OK [RESULT] [key=value ...]      the call succeeded
 *     ERR NAME [key=value ...]         it failed with Winsock error NAME (or a number)
 *     BAD TEXT                         the command itself was malformed
 * Sockets, event objects, windows and messages are named by the scenario's own names
 * (created on first use), so no handle value ever appears in a script. Commands:
 *     socket name=N | listen name=N backlog=B [create=1] (binds 127.0.0.1:0; port=P)
 *     connect name=N port=P [create=1] | accept name=L as=N [defer=1]
 *     send name=N bytes=K [oob=1] [fill=1: send again until WSAEWOULDBLOCK]
 *     recv name=N bytes=K|all [peek=1] [oob=1] [bad=1: an invalid buffer pointer]
 *     shutdown name=N how=send|receive|both | close name=N [abortive=1]
 *     asyncselect name=N window=W msg=M mask=X | eventselect name=N event=E|- mask=X
 *     enum name=N event=E|- (FD_X:ERROR,...) | wait events=E1,E2 [all=1] (timeout 0)
 *     createevent|setevent|resetevent|closeevent event=E
 *     take (one queued socket message of any window: WINDOW:FD_X:ERROR@SOCKET)
 *     peek window=W (all of one window's) | destroy window=W
 *     dup name=N pid=P (info=HEX) | import as=N info=HEX|-
 *     fionbio name=N value=0|1 | fionread name=N
 *     setopt name=N opt=linger|oobinline value=A[,B] | getopt name=N opt=linger|oobinline|error
 *     select read=N1,N2 write=... except=... (timeout 0; SET:NAME,... of the ready ones)
 *     poll fds=N1:EVENTS,N2:EVENTS (WSAPoll, timeout 0; NAME:POLLX,... of the revents)
 *     refusedport | version | exit (closes everything, then ends) | quit
 */

#define WIN32_LEAN_AND_MEAN
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _MSC_VER
#define strtok_r strtok_s
#endif

#define INTERP_VERSION "1"
#define LINE_MAX_LEN 65536
#define NAME_LEN 256
#define MAX_ARGS 32
#define MSG_BASE (WM_USER + 1)

/* ------------------------------------------------------------------------------------- */
/* small helpers                                                                          */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    ExitProcess(2);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) die("out of memory");
    return q;
}

static void copy_name(char *dst, const char *src)
{
    strncpy(dst, src, NAME_LEN - 1);
    dst[NAME_LEN - 1] = 0;
}

static const char *system_description(void)
{
    static char text[128];
    typedef const char *(CDECL * wine_version_fn)(void);
    typedef LONG(WINAPI * rtl_version_fn)(OSVERSIONINFOW *);
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    wine_version_fn wine_version =
        ntdll ? (wine_version_fn)(void *)GetProcAddress(ntdll, "wine_get_version") : NULL;
    rtl_version_fn rtl_version =
        ntdll ? (rtl_version_fn)(void *)GetProcAddress(ntdll, "RtlGetVersion") : NULL;
    if (wine_version) {
        snprintf(text, sizeof text, "wine-%s", wine_version());
    } else if (rtl_version) {
        OSVERSIONINFOW v;
        memset(&v, 0, sizeof v);
        v.dwOSVersionInfoSize = sizeof v;
        rtl_version(&v);
        snprintf(text, sizeof text, "windows-%lu.%lu.%lu", v.dwMajorVersion, v.dwMinorVersion,
                 v.dwBuildNumber);
    } else {
        snprintf(text, sizeof text, "windows-unknown");
    }
    return text;
}

/* ------------------------------------------------------------------------------------- */
/* errors                                                                                 */

struct error_name {
    int code;
    const char *name;
};

static const struct error_name error_names[] = {
    {6, "WSA_INVALID_HANDLE"},        {87, "WSA_INVALID_PARAMETER"},
    {10004, "WSAEINTR"},              {10009, "WSAEBADF"},
    {10013, "WSAEACCES"},             {10014, "WSAEFAULT"},
    {10022, "WSAEINVAL"},             {10024, "WSAEMFILE"},
    {10035, "WSAEWOULDBLOCK"},        {10036, "WSAEINPROGRESS"},
    {10037, "WSAEALREADY"},           {10038, "WSAENOTSOCK"},
    {10039, "WSAEDESTADDRREQ"},       {10040, "WSAEMSGSIZE"},
    {10041, "WSAEPROTOTYPE"},         {10042, "WSAENOPROTOOPT"},
    {10043, "WSAEPROTONOSUPPORT"},    {10045, "WSAEOPNOTSUPP"},
    {10047, "WSAEAFNOSUPPORT"},       {10048, "WSAEADDRINUSE"},
    {10049, "WSAEADDRNOTAVAIL"},      {10050, "WSAENETDOWN"},
    {10051, "WSAENETUNREACH"},        {10052, "WSAENETRESET"},
    {10053, "WSAECONNABORTED"},       {10054, "WSAECONNRESET"},
    {10055, "WSAENOBUFS"},            {10056, "WSAEISCONN"},
    {10057, "WSAENOTCONN"},           {10058, "WSAESHUTDOWN"},
    {10060, "WSAETIMEDOUT"},          {10061, "WSAECONNREFUSED"},
    {10065, "WSAEHOSTUNREACH"},       {10093, "WSANOTINITIALISED"},
    {11002, "WSATRY_AGAIN"},          {0, NULL},
};

static const char *error_text(int code)
{
    static char buf[32];
    for (const struct error_name *e = error_names; e->name; e++)
        if (e->code == code) return e->name;
    snprintf(buf, sizeof buf, "%d", code);
    return buf;
}

/* ------------------------------------------------------------------------------------- */
/* replies (child mode)                                                                   */

static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void reply_wsa_error(void)
{
    reply("ERR %s", error_text(WSAGetLastError()));
}

/* ------------------------------------------------------------------------------------- */
/* command lines: NAME key=value key=value ...                                            */

struct command {
    char *name;
    int nargs;
    char *keys[MAX_ARGS];
    char *values[MAX_ARGS];
};

static int parse_command(char *line, struct command *cmd)
{
    char *save = NULL;
    char *tok = strtok_r(line, " \t\r\n", &save);
    memset(cmd, 0, sizeof *cmd);
    if (!tok) return 0;
    cmd->name = tok;
    while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
        char *eq = strchr(tok, '=');
        if (cmd->nargs == MAX_ARGS) return -1;
        if (eq) {
            *eq = 0;
            cmd->values[cmd->nargs] = eq + 1;
        } else {
            cmd->values[cmd->nargs] = "";
        }
        cmd->keys[cmd->nargs++] = tok;
    }
    return 1;
}

static const char *arg(const struct command *cmd, const char *key)
{
    for (int i = 0; i < cmd->nargs; i++)
        if (!strcmp(cmd->keys[i], key)) return cmd->values[i];
    return NULL;
}

static long arg_long(const struct command *cmd, const char *key, long fallback)
{
    const char *v = arg(cmd, key);
    return v && *v ? strtol(v, NULL, 0) : fallback;
}

static int arg_flag(const struct command *cmd, const char *key)
{
    return arg_long(cmd, key, 0) != 0;
}

/* ------------------------------------------------------------------------------------- */
/* name tables                                                                            */

struct sock_entry {
    char name[NAME_LEN];
    SOCKET s;
    int open;
    int bound;
};

struct event_entry {
    char name[NAME_LEN];
    WSAEVENT h;
    int closed;
};

struct window_entry {
    char name[NAME_LEN];
    HWND hwnd;
    int destroyed;
};

struct message_entry {
    char name[NAME_LEN];
};

static struct sock_entry *socks;
static int nsocks;
static struct event_entry *events;
static int nevents;
static struct window_entry *windows;
static int nwindows;
static struct message_entry *messages;
static int nmessages;

/* A handle value no object has: closed event names stand for it, so a stale name can
 * never reach an object that happens to reuse the old value. */
#define STALE_EVENT ((WSAEVENT)(ULONG_PTR)0x7ffffff0)

static struct sock_entry *find_sock(const char *name)
{
    for (int i = nsocks - 1; i >= 0; i--)
        if (!strcmp(socks[i].name, name)) return &socks[i];
    return NULL;
}

/* The socket a name refers to now; closed or unknown names give INVALID_SOCKET. */
static SOCKET sock_of(const char *name)
{
    struct sock_entry *e = name ? find_sock(name) : NULL;
    return e && e->open ? e->s : INVALID_SOCKET;
}

/* the handle made by the command running now, reported as handle=0x... in its reply so
 * the driver can name it when it turns up as another process's wParam */
static char created[64];

static struct sock_entry *add_sock(const char *name, SOCKET s)
{
    snprintf(created, sizeof created, " handle=0x%llx", (unsigned long long)s);
    socks = xrealloc(socks, sizeof *socks * (nsocks + 1));
    struct sock_entry *e = &socks[nsocks++];
    copy_name(e->name, name);
    e->s = s;
    e->open = 1;
    e->bound = 0;
    return e;
}

/* The newest name ever given to a socket value (a message's wParam). */
static const char *name_of_socket(SOCKET s)
{
    static char buf[40];
    for (int i = nsocks - 1; i >= 0; i--)
        if (socks[i].s == s) return socks[i].name;
    snprintf(buf, sizeof buf, "#%llx", (unsigned long long)s);
    return buf;
}

static struct event_entry *new_event(const char *name)
{
    events = xrealloc(events, sizeof *events * (nevents + 1));
    struct event_entry *e = &events[nevents++];
    copy_name(e->name, name);
    e->h = WSACreateEvent();
    e->closed = 0;
    return e;
}

/* The event a name refers to, created on first use as simnotify does. */
static struct event_entry *event_named(const char *name)
{
    for (int i = nevents - 1; i >= 0; i--)
        if (!strcmp(events[i].name, name)) return &events[i];
    return new_event(name);
}

static WSAEVENT event_handle(const char *name)
{
    if (!name || !*name || !strcmp(name, "-")) return NULL;
    struct event_entry *e = event_named(name);
    return e->closed ? STALE_EVENT : e->h;
}

static const wchar_t WINDOW_CLASS[] = L"simnotify_crosscheck";

static void register_window_class(void)
{
    static int done;
    if (done) return;
    WNDCLASSW wc;
    memset(&wc, 0, sizeof wc);
    wc.lpfnWndProc = DefWindowProcW;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = WINDOW_CLASS;
    if (!RegisterClassW(&wc)) die("RegisterClass failed: %lu", GetLastError());
    done = 1;
}

/* The message-only window a name refers to, created on first use. */
static struct window_entry *window_named(const char *name)
{
    if (!name || !*name) name = "main";
    for (int i = nwindows - 1; i >= 0; i--)
        if (!strcmp(windows[i].name, name)) return &windows[i];
    register_window_class();
    windows = xrealloc(windows, sizeof *windows * (nwindows + 1));
    struct window_entry *w = &windows[nwindows++];
    copy_name(w->name, name);
    w->hwnd = CreateWindowExW(0, WINDOW_CLASS, L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL,
                              GetModuleHandleW(NULL), NULL);
    if (!w->hwnd) die("CreateWindowEx failed: %lu", GetLastError());
    w->destroyed = 0;
    return w;
}

static const char *name_of_window(HWND hwnd)
{
    for (int i = nwindows - 1; i >= 0; i--)
        if (windows[i].hwnd == hwnd) return windows[i].name;
    return "?";
}

/* A message name's number: WM_USER + 1 + its index, in order of first use. */
static UINT message_number(const char *name)
{
    if (!name || !*name) name = "WM_SOCKET";
    for (int i = 0; i < nmessages; i++)
        if (!strcmp(messages[i].name, name)) return MSG_BASE + i;
    messages = xrealloc(messages, sizeof *messages * (nmessages + 1));
    copy_name(messages[nmessages].name, name);
    return MSG_BASE + nmessages++;
}

static int is_socket_message(UINT msg)
{
    return msg >= MSG_BASE && msg < (UINT)(MSG_BASE + nmessages);
}

/* ------------------------------------------------------------------------------------- */
/* event bits                                                                             */

static const char *const bit_names[FD_MAX_EVENTS] = {
    "FD_READ", "FD_WRITE", "FD_OOB", "FD_ACCEPT", "FD_CONNECT",
    "FD_CLOSE", "FD_QOS", "FD_GROUP_QOS", "FD_ROUTING_INTERFACE_CHANGE",
    "FD_ADDRESS_LIST_CHANGE",
};

static const char *bit_text(long bits)
{
    static char buf[32];
    for (int i = 0; i < FD_MAX_EVENTS; i++)
        if (bits == (1L << i)) return bit_names[i];
    snprintf(buf, sizeof buf, "0x%lx", bits);
    return buf;
}

/* One message as TOKEN: WINDOW:FD_X:ERROR@SOCKETNAME */
static void append_message(char *out, size_t size, const MSG *m)
{
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s:%s:%u@%s", len ? "," : "", name_of_window(m->hwnd),
             bit_text(WSAGETSELECTEVENT(m->lParam)), (unsigned)WSAGETSELECTERROR(m->lParam),
             name_of_socket((SOCKET)m->wParam));
}

/* ------------------------------------------------------------------------------------- */
/* buffers                                                                                */

static char *io_buf;
static size_t io_size;

static char *buffer(size_t n)
{
    if (n > io_size) {
        io_buf = xrealloc(io_buf, n);
        memset(io_buf, 'x', n);
        io_size = n;
    }
    return io_buf;
}

/* ------------------------------------------------------------------------------------- */
/* the calls                                                                              */

static SOCKET new_tcp_socket(void)
{
    return WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
}

static struct sock_entry *sock_or_create(const struct command *cmd)
{
    const char *name = arg(cmd, "name");
    struct sock_entry *e = name ? find_sock(name) : NULL;
    if ((!e || !e->open) && arg_flag(cmd, "create") && name) {
        SOCKET s = new_tcp_socket();
        if (s == INVALID_SOCKET) return NULL;
        e = add_sock(name, s);
    }
    return e;
}

static void loopback(struct sockaddr_in *a, int port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((u_short)port);
}

static void do_socket(const struct command *cmd)
{
    SOCKET s = new_tcp_socket();
    if (s == INVALID_SOCKET) return reply_wsa_error();
    add_sock(arg(cmd, "name") ? arg(cmd, "name") : "?", s);
    reply("OK 0%s", created);
}

static void do_listen(const struct command *cmd)
{
    struct sock_entry *e = sock_or_create(cmd);
    SOCKET s = e && e->open ? e->s : INVALID_SOCKET;
    struct sockaddr_in a;
    int len = sizeof a;
    if (e && e->open && !e->bound) {
        loopback(&a, 0);
        if (bind(s, (struct sockaddr *)&a, sizeof a) == 0) e->bound = 1;
    }
    if (listen(s, (int)arg_long(cmd, "backlog", 5)) != 0) return reply_wsa_error();
    if (getsockname(s, (struct sockaddr *)&a, &len) != 0) return reply_wsa_error();
    reply("OK 0 port=%d%s", ntohs(a.sin_port), created);
}

static void do_connect(const struct command *cmd)
{
    struct sock_entry *e = sock_or_create(cmd);
    SOCKET s = e && e->open ? e->s : INVALID_SOCKET;
    struct sockaddr_in a;
    loopback(&a, (int)arg_long(cmd, "port", 0));
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        int err = WSAGetLastError();
        if (e && err == WSAEWOULDBLOCK) e->bound = 1;
        return reply("ERR %s%s", error_text(err), created);
    }
    e->bound = 1;
    reply("OK 0%s", created);
}

static int CALLBACK defer_condition(LPWSABUF caller_id, LPWSABUF caller_data, LPQOS sqos,
                                    LPQOS gqos, LPWSABUF callee_id, LPWSABUF callee_data,
                                    GROUP *g, DWORD_PTR context)
{
    (void)caller_id, (void)caller_data, (void)sqos, (void)gqos, (void)callee_id;
    (void)callee_data, (void)g, (void)context;
    return CF_DEFER;
}

static void do_accept(const struct command *cmd)
{
    SOCKET l = sock_of(arg(cmd, "name"));
    SOCKET n;
    if (arg_flag(cmd, "defer"))
        n = WSAAccept(l, NULL, NULL, defer_condition, 0);
    else
        n = accept(l, NULL, NULL);
    if (n == INVALID_SOCKET) return reply_wsa_error();
    add_sock(arg(cmd, "as") ? arg(cmd, "as") : "conn", n)->bound = 1;
    reply("OK 0%s", created);
}

static void do_send(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    int n = (int)arg_long(cmd, "bytes", 0);
    int flags = arg_flag(cmd, "oob") ? MSG_OOB : 0;
    char *buf = buffer(n > 0 ? (size_t)n : 1);
    if (!arg_flag(cmd, "fill")) {
        int r = send(s, buf, n, flags);
        if (r == SOCKET_ERROR) return reply_wsa_error();
        return reply("OK %d", r);
    }
    /* fill: sends of this size until one fails, so the send buffer is full as simnotify
     * says it is, whatever the host's buffer sizes */
    long long total = 0;
    for (int i = 0; i < 4096; i++) {
        int r = send(s, buf, n, flags);
        if (r == SOCKET_ERROR) {
            return reply("ERR %s sent=%lld", error_text(WSAGetLastError()), total);
        }
        total += r;
    }
    reply("OK %lld", total);
}

static void do_recv(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    const char *bytes = arg(cmd, "bytes");
    int flags = (arg_flag(cmd, "peek") ? MSG_PEEK : 0) | (arg_flag(cmd, "oob") ? MSG_OOB : 0);
    long n;
    if (!bytes || !strcmp(bytes, "all")) {
        u_long queued = 0;
        if (flags & MSG_OOB || ioctlsocket(s, FIONREAD, &queued) != 0) queued = 0;
        n = queued ? (long)queued : 65536;
    } else {
        n = strtol(bytes, NULL, 0);
    }
    char *buf = arg_flag(cmd, "bad") ? (char *)(ULONG_PTR)1 : buffer(n > 0 ? (size_t)n : 1);
    int r = recv(s, buf, (int)n, flags);
    if (r == SOCKET_ERROR) return reply_wsa_error();
    reply("OK %d", r);
}

static void do_shutdown(const struct command *cmd)
{
    const char *how = arg(cmd, "how");
    int h = SD_SEND;
    if (how && !strcmp(how, "receive")) h = SD_RECEIVE;
    if (how && !strcmp(how, "both")) h = SD_BOTH;
    if (shutdown(sock_of(arg(cmd, "name")), h) != 0) return reply_wsa_error();
    reply("OK 0");
}

static void do_close(const struct command *cmd)
{
    const char *name = arg(cmd, "name");
    struct sock_entry *e = name ? find_sock(name) : NULL;
    SOCKET s = e && e->open ? e->s : INVALID_SOCKET;
    if (arg_flag(cmd, "abortive")) {
        struct linger l = {1, 0};
        setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&l, sizeof l);
    }
    if (closesocket(s) != 0) return reply_wsa_error();
    e->open = 0;
    reply("OK 0");
}

static void do_asyncselect(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    struct window_entry *w = window_named(arg(cmd, "window"));
    UINT msg = message_number(arg(cmd, "msg"));
    if (WSAAsyncSelect(s, w->hwnd, msg, arg_long(cmd, "mask", 0)) != 0) return reply_wsa_error();
    reply("OK 0");
}

static void do_eventselect(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    WSAEVENT ev = event_handle(arg(cmd, "event"));
    if (WSAEventSelect(s, ev, arg_long(cmd, "mask", 0)) != 0) return reply_wsa_error();
    reply("OK 0");
}

static void do_enum(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    WSAEVENT ev = event_handle(arg(cmd, "event"));
    WSANETWORKEVENTS ne;
    char out[1024] = "";
    memset(&ne, 0xab, sizeof ne);
    if (WSAEnumNetworkEvents(s, ev, &ne) != 0) return reply_wsa_error();
    for (int i = 0; i < FD_MAX_EVENTS; i++) {
        if (ne.lNetworkEvents & (1L << i)) {
            size_t len = strlen(out);
            snprintf(out + len, sizeof out - len, "%s%s:%d", len ? "," : "", bit_names[i],
                     ne.iErrorCode[i]);
        }
    }
    reply("OK %s", *out ? out : "-");
}

static void do_event_call(const struct command *cmd)
{
    const char *name = arg(cmd, "event");
    if (!name) return reply("BAD no event");
    if (!strcmp(cmd->name, "createevent")) {
        struct event_entry *e = new_event(name);
        if (e->h == WSA_INVALID_EVENT) return reply_wsa_error();
        return reply("OK 0");
    }
    struct event_entry *e = event_named(name);
    WSAEVENT h = e->closed ? STALE_EVENT : e->h;
    BOOL ok;
    if (!strcmp(cmd->name, "setevent"))
        ok = WSASetEvent(h);
    else if (!strcmp(cmd->name, "resetevent"))
        ok = WSAResetEvent(h);
    else {
        ok = WSACloseEvent(h);
        if (ok) e->closed = 1;
    }
    if (!ok) return reply_wsa_error();
    reply("OK 0");
}

static void do_wait(const struct command *cmd)
{
    WSAEVENT hs[WSA_MAXIMUM_WAIT_EVENTS + 1];
    DWORD n = 0;
    char list[LINE_MAX_LEN];
    const char *names = arg(cmd, "events");
    char *save = NULL;
    snprintf(list, sizeof list, "%s", names ? names : "");
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == WSA_MAXIMUM_WAIT_EVENTS + 1) break;
        hs[n++] = event_handle(t);
    }
    DWORD r = WSAWaitForMultipleEvents(n, hs, arg_flag(cmd, "all"), 0, FALSE);
    if (r == WSA_WAIT_TIMEOUT) return reply("OK TIMEOUT");
    if (r == WSA_WAIT_FAILED) return reply_wsa_error();
    reply("OK %lu", (unsigned long)(r - WSA_WAIT_EVENT_0));
}

/* take: the oldest socket message of any window of this process (a GetMessage loop) */
static void do_take(void)
{
    MSG m;
    char out[1024] = "";
    while (PeekMessageW(&m, NULL, 0, 0, PM_REMOVE)) {
        if (is_socket_message(m.message)) {
            append_message(out, sizeof out, &m);
            return reply("OK %s", out);
        }
        TranslateMessage(&m);
        DispatchMessageW(&m);
    }
    reply("OK -");
}

/* peek: every socket message queued for one window, oldest first */
static void do_peek(const struct command *cmd)
{
    struct window_entry *w = window_named(arg(cmd, "window"));
    static char out[LINE_MAX_LEN];
    MSG m;
    out[0] = 0;
    while (strlen(out) < sizeof out - 512 && PeekMessageW(&m, w->hwnd, 0, 0, PM_REMOVE)) {
        if (is_socket_message(m.message))
            append_message(out, sizeof out, &m);
        else {
            TranslateMessage(&m);
            DispatchMessageW(&m);
        }
    }
    reply("OK %s", *out ? out : "-");
}

static void do_destroy(const struct command *cmd)
{
    struct window_entry *w = window_named(arg(cmd, "window"));
    if (!DestroyWindow(w->hwnd)) return reply("ERR %lu", GetLastError());
    w->destroyed = 1;
    reply("OK 0");
}

static void do_dup(const struct command *cmd)
{
    WSAPROTOCOL_INFOW info;
    static char hex[sizeof info * 2 + 1];
    const unsigned char *p = (const unsigned char *)&info;
    memset(&info, 0, sizeof info);
    if (WSADuplicateSocketW(sock_of(arg(cmd, "name")), (DWORD)arg_long(cmd, "pid", 0), &info))
        return reply_wsa_error();
    for (size_t i = 0; i < sizeof info; i++) snprintf(hex + 2 * i, 3, "%02x", p[i]);
    reply("OK 0 info=%s", hex);
}

static void do_import(const struct command *cmd)
{
    WSAPROTOCOL_INFOW info;
    unsigned char *p = (unsigned char *)&info;
    const char *hex = arg(cmd, "info");
    memset(&info, 0, sizeof info);
    if (hex && strlen(hex) == sizeof info * 2) {
        for (size_t i = 0; i < sizeof info; i++) {
            unsigned v;
            sscanf(hex + 2 * i, "%2x", &v);
            p[i] = (unsigned char)v;
        }
    }
    SOCKET s = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0,
                          WSA_FLAG_OVERLAPPED);
    if (s == INVALID_SOCKET) return reply_wsa_error();
    add_sock(arg(cmd, "as") ? arg(cmd, "as") : "?", s)->bound = 1;
    reply("OK 0%s", created);
}

static void do_ioctl(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    u_long v = (u_long)arg_long(cmd, "value", 0);
    long code = strcmp(cmd->name, "fionread") ? FIONBIO : FIONREAD;
    if (ioctlsocket(s, code, &v) != 0) return reply_wsa_error();
    reply("OK %lu", code == FIONREAD ? v : 0UL);
}

static void do_setopt(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    const char *opt = arg(cmd, "opt");
    const char *value = arg(cmd, "value");
    int r;
    if (opt && !strcmp(opt, "linger")) {
        struct linger l = {0, 0};
        unsigned a = 0, b = 0;
        if (value) sscanf(value, "%u,%u", &a, &b);
        l.l_onoff = (u_short)a;
        l.l_linger = (u_short)b;
        r = setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&l, sizeof l);
    } else {
        BOOL v = value && strtol(value, NULL, 0) != 0;
        r = setsockopt(s, SOL_SOCKET, SO_OOBINLINE, (const char *)&v, sizeof v);
    }
    if (r != 0) return reply_wsa_error();
    reply("OK 0");
}

static void do_getopt(const struct command *cmd)
{
    SOCKET s = sock_of(arg(cmd, "name"));
    const char *opt = arg(cmd, "opt");
    if (opt && !strcmp(opt, "linger")) {
        struct linger l = {0, 0};
        int len = sizeof l;
        if (getsockopt(s, SOL_SOCKET, SO_LINGER, (char *)&l, &len) != 0)
            return reply_wsa_error();
        return reply("OK %u,%u", l.l_onoff, l.l_linger);
    }
    if (opt && !strcmp(opt, "error")) {
        int err = 0;
        int len = sizeof err;
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &len) != 0) return reply_wsa_error();
        return reply("OK %s", err ? error_text(err) : "0");
    }
    BOOL v = 0;
    int len = sizeof v;
    if (getsockopt(s, SOL_SOCKET, SO_OOBINLINE, (char *)&v, &len) != 0) return reply_wsa_error();
    reply("OK %d", v ? 1 : 0);
}

/* the names of a comma list into an fd_set (closed or unknown names as INVALID_SOCKET) */
static void fill_set(const char *names, fd_set *set, char list[][NAME_LEN], int *n)
{
    char copy[LINE_MAX_LEN];
    char *save = NULL;
    FD_ZERO(set);
    *n = 0;
    snprintf(copy, sizeof copy, "%s", names ? names : "");
    for (char *t = strtok_r(copy, ",", &save); t && *n < FD_SETSIZE; t = strtok_r(NULL, ",", &save)) {
        copy_name(list[(*n)++], t);
        FD_SET(sock_of(t), set);
    }
}

static void append_entry(char *out, size_t size, const char *a, const char *b)
{
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s:%s", len ? "," : "", a, b);
}

/* select: zero timeout; the names found ready in each set */
static void do_select(const struct command *cmd)
{
    static const char *keys[3] = {"read", "write", "except"};
    static char names[3][FD_SETSIZE][NAME_LEN];
    fd_set sets[3];
    int counts[3];
    static char out[LINE_MAX_LEN];
    struct timeval zero = {0, 0};
    for (int k = 0; k < 3; k++) {
        fill_set(arg(cmd, keys[k]), &sets[k], names[k], &counts[k]);
    }
    if (select(0, counts[0] ? &sets[0] : NULL, counts[1] ? &sets[1] : NULL,
               counts[2] ? &sets[2] : NULL, &zero) == SOCKET_ERROR)
        return reply_wsa_error();
    out[0] = 0;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < counts[k]; i++)
            if (FD_ISSET(sock_of(names[k][i]), &sets[k])) append_entry(out, sizeof out, keys[k], names[k][i]);
    reply("OK %s", *out ? out : "-");
}

static const struct {
    SHORT bit;
    const char *name;
} poll_names[] = {
    {POLLRDNORM, "POLLRDNORM"}, {POLLRDBAND, "POLLRDBAND"}, {POLLWRNORM, "POLLWRNORM"},
    {POLLERR, "POLLERR"},       {POLLHUP, "POLLHUP"},       {POLLNVAL, "POLLNVAL"},
};

/* poll: WSAPoll with a zero timeout; NAME:POLLX for every revents bit */
static void do_poll(const struct command *cmd)
{
    WSAPOLLFD fds[FD_SETSIZE];
    static char names[FD_SETSIZE][NAME_LEN];
    ULONG n = 0;
    char copy[LINE_MAX_LEN];
    static char out[LINE_MAX_LEN];
    char *save = NULL;
    const char *list = arg(cmd, "fds");
    snprintf(copy, sizeof copy, "%s", list ? list : "");
    for (char *t = strtok_r(copy, ",", &save); t && n < FD_SETSIZE; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':');
        if (colon) *colon = 0;
        copy_name(names[n], t);
        fds[n].fd = sock_of(t);
        fds[n].events = (SHORT)(colon ? strtol(colon + 1, NULL, 0) : 0);
        fds[n].revents = 0;
        n++;
    }
    if (WSAPoll(fds, n, 0) == SOCKET_ERROR) return reply_wsa_error();
    out[0] = 0;
    for (ULONG i = 0; i < n; i++)
        for (size_t b = 0; b < sizeof poll_names / sizeof poll_names[0]; b++)
            if (fds[i].revents & poll_names[b].bit) append_entry(out, sizeof out, names[i], poll_names[b].name);
    reply("OK %s", *out ? out : "-");
}

/* refusedport: a port nobody listens on (bound, then closed at once) */
static void do_refusedport(void)
{
    SOCKET s = new_tcp_socket();
    struct sockaddr_in a;
    int len = sizeof a;
    loopback(&a, 0);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0)
        return reply_wsa_error();
    closesocket(s);
    reply("OK 0 port=%d", ntohs(a.sin_port));
}

/* exit: as simnotify's exit call: close every open socket, destroy the windows, close
 * the event objects, then end the process */
static void do_exit(void)
{
    for (int i = 0; i < nsocks; i++)
        if (socks[i].open) closesocket(socks[i].s), socks[i].open = 0;
    for (int i = 0; i < nwindows; i++)
        if (!windows[i].destroyed) DestroyWindow(windows[i].hwnd), windows[i].destroyed = 1;
    for (int i = 0; i < nevents; i++)
        if (!events[i].closed) WSACloseEvent(events[i].h), events[i].closed = 1;
    reply("OK 0");
    ExitProcess(0);
}

static void run_command(struct command *cmd)
{
    const char *c = cmd->name;
    created[0] = 0;
    if (!strcmp(c, "socket")) do_socket(cmd);
    else if (!strcmp(c, "listen")) do_listen(cmd);
    else if (!strcmp(c, "connect")) do_connect(cmd);
    else if (!strcmp(c, "accept")) do_accept(cmd);
    else if (!strcmp(c, "send")) do_send(cmd);
    else if (!strcmp(c, "recv")) do_recv(cmd);
    else if (!strcmp(c, "shutdown")) do_shutdown(cmd);
    else if (!strcmp(c, "close")) do_close(cmd);
    else if (!strcmp(c, "asyncselect")) do_asyncselect(cmd);
    else if (!strcmp(c, "eventselect")) do_eventselect(cmd);
    else if (!strcmp(c, "enum")) do_enum(cmd);
    else if (!strcmp(c, "createevent") || !strcmp(c, "setevent") || !strcmp(c, "resetevent") ||
             !strcmp(c, "closeevent"))
        do_event_call(cmd);
    else if (!strcmp(c, "wait")) do_wait(cmd);
    else if (!strcmp(c, "take")) do_take();
    else if (!strcmp(c, "peek")) do_peek(cmd);
    else if (!strcmp(c, "destroy")) do_destroy(cmd);
    else if (!strcmp(c, "dup")) do_dup(cmd);
    else if (!strcmp(c, "import")) do_import(cmd);
    else if (!strcmp(c, "fionbio") || !strcmp(c, "fionread")) do_ioctl(cmd);
    else if (!strcmp(c, "setopt")) do_setopt(cmd);
    else if (!strcmp(c, "getopt")) do_getopt(cmd);
    else if (!strcmp(c, "select")) do_select(cmd);
    else if (!strcmp(c, "poll")) do_poll(cmd);
    else if (!strcmp(c, "refusedport")) do_refusedport();
    else if (!strcmp(c, "sleep")) Sleep((DWORD)arg_long(cmd, "ms", 0)), reply("OK 0");
    else if (!strcmp(c, "version")) reply("OK %s interp=%s", system_description(), INTERP_VERSION);
    else if (!strcmp(c, "exit")) do_exit();
    else if (!strcmp(c, "quit")) reply("OK 0"), ExitProcess(0);
    else reply("BAD unknown command %s", c);
}

static int child_main(void)
{
    static char line[LINE_MAX_LEN];
    struct command cmd;
    while (fgets(line, sizeof line, stdin)) {
        int parsed = parse_command(line, &cmd);
        if (parsed == 0) continue;
        if (parsed < 0) {
            reply("BAD too many arguments");
            continue;
        }
        run_command(&cmd);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* coordinator mode                                                                       */

struct child {
    char name[NAME_LEN];
    HANDLE process;
    HANDLE in;  /* we write commands here */
    HANDLE out; /* we read replies here */
    DWORD pid;
    int gone; /* exited, or stopped answering */
    char buf[LINE_MAX_LEN];
    size_t used;
};

static struct child *children;
static int nchildren;

struct variable {
    char name[NAME_LEN];
    char *value;
};

static struct variable *vars;
static int nvars;

static void set_var(const char *name, const char *value)
{
    for (int i = 0; i < nvars; i++) {
        if (!strcmp(vars[i].name, name)) {
            free(vars[i].value);
            vars[i].value = _strdup(value);
            return;
        }
    }
    vars = xrealloc(vars, sizeof *vars * (nvars + 1));
    copy_name(vars[nvars].name, name);
    vars[nvars++].value = _strdup(value);
}

static const char *get_var(const char *name)
{
    for (int i = 0; i < nvars; i++)
        if (!strcmp(vars[i].name, name)) return vars[i].value;
    return NULL;
}

static struct child *child_named(const char *name)
{
    for (int i = 0; i < nchildren; i++)
        if (!strcmp(children[i].name, name)) return &children[i];
    return NULL;
}

static void spawn(const char *name)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE in_read, in_write, out_read, out_write;
    wchar_t exe[MAX_PATH], cmdline[MAX_PATH + 64];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    if (!CreatePipe(&in_read, &in_write, &sa, 0) || !CreatePipe(&out_read, &out_write, &sa, 0))
        die("CreatePipe failed: %lu", GetLastError());
    SetHandleInformation(in_write, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    _snwprintf(cmdline, sizeof cmdline / sizeof *cmdline, L"\"%ls\" --child", exe);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_read;
    si.hStdOutput = out_write;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessW(exe, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        die("CreateProcess failed: %lu", GetLastError());
    CloseHandle(pi.hThread);
    CloseHandle(in_read);
    CloseHandle(out_write);
    children = xrealloc(children, sizeof *children * (nchildren + 1));
    struct child *c = &children[nchildren++];
    memset(c, 0, sizeof *c);
    copy_name(c->name, name);
    c->process = pi.hProcess;
    c->in = in_write;
    c->out = out_read;
    c->pid = pi.dwProcessId;
    char var[NAME_LEN + 8], pid[32];
    snprintf(var, sizeof var, "pid.%s", name);
    snprintf(pid, sizeof pid, "%lu", (unsigned long)c->pid);
    set_var(var, pid);
}

static int send_line(struct child *c, const char *text)
{
    DWORD written;
    size_t len = strlen(text);
    if (c->gone) return 0;
    if (!WriteFile(c->in, text, (DWORD)len, &written, NULL) ||
        !WriteFile(c->in, "\n", 1, &written, NULL)) {
        c->gone = 1;
        return 0;
    }
    return 1;
}

/* One reply line from a child, waiting at most timeout_ms. Returns 1 with the line in
 * out, 0 on timeout, -1 when the child has gone. */
static int read_line(struct child *c, char *out, size_t size, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->used);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            size_t keep = n < size - 1 ? n : size - 1;
            memcpy(out, c->buf, keep);
            out[keep] = 0;
            if (keep && out[keep - 1] == '\r') out[keep - 1] = 0;
            memmove(c->buf, nl + 1, c->used - n - 1);
            c->used -= n + 1;
            return 1;
        }
        DWORD avail = 0, got = 0;
        if (!PeekNamedPipe(c->out, NULL, 0, NULL, &avail, NULL)) return -1;
        if (avail) {
            DWORD room = (DWORD)(sizeof c->buf - c->used - 1);
            if (!room) c->used = 0, room = (DWORD)(sizeof c->buf - 1); /* overlong: drop */
            if (!ReadFile(c->out, c->buf + c->used, avail < room ? avail : room, &got, NULL))
                return -1;
            c->used += got;
            continue;
        }
        if (GetTickCount64() >= deadline) return 0;
        Sleep(1);
    }
}

static void collect(struct child *c, char *out, size_t size, DWORD timeout_ms)
{
    if (c->gone) {
        snprintf(out, size, "SKIPPED gone");
        return;
    }
    int r = read_line(c, out, size, timeout_ms);
    if (r == 0) {
        snprintf(out, size, "TIMEOUT");
    } else if (r < 0) {
        c->gone = 1;
        snprintf(out, size, "SKIPPED gone");
    }
}

/* $NAME tokens (after '=' or alone) are replaced with variable values */
static void substitute(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < size;) {
        if (*p == '$') {
            const char *end = p + 1;
            while (*end && *end != ' ' && *end != '\t' && *end != ',') end++;
            char name[NAME_LEN];
            size_t n = (size_t)(end - p - 1) < NAME_LEN - 1 ? (size_t)(end - p - 1) : NAME_LEN - 1;
            memcpy(name, p + 1, n);
            name[n] = 0;
            const char *v = get_var(name);
            if (!v) v = "0";
            size_t vl = strlen(v);
            if (o + vl >= size) break;
            memcpy(out + o, v, vl);
            o += vl;
            p = end;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
}

/* the value of key=... in a reply */
static int reply_field(const char *text, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p++) {
        if ((p == text || p[-1] == ' ') && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t n = strcspn(v, " ");
            if (n >= size) n = size - 1;
            memcpy(out, v, n);
            out[n] = 0;
            return 1;
        }
    }
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
}

static int coordinator_main(const char *path, const char *out_path)
{
    static char line[LINE_MAX_LEN], work[LINE_MAX_LEN], sub[LINE_MAX_LEN];
    static char answer[LINE_MAX_LEN];
    DWORD timeout_ms = 10000;
    FILE *f = fopen(path, "rb");
    FILE *out = stdout;
    if (!f) die("%s: cannot open the script", path);
    if (out_path && !(out = fopen(out_path, "wb"))) die("%s: cannot write the transcript", out_path);
    if (!fgets(line, sizeof line, f) || strncmp(line, "simnotify-crosscheck-script 1", 29))
        die("%s: not a simnotify cross-check script (first line)", path);
    fprintf(out, "simnotify-transcript 1\n");
    fprintf(out, "system %s\n", system_description());
    fprintf(out, "interp %s\n", INTERP_VERSION);
    fflush(out);
    while (fgets(line, sizeof line, f)) {
        trim(line);
        if (!line[0] || line[0] == '#') continue;
        snprintf(work, sizeof work, "%s", line);
        char *save = NULL;
        char *first = strtok_r(work, " ", &save);
        char *rest = save;
        if (!strcmp(first, "@process")) {
            spawn(rest);
            continue;
        }
        if (!strcmp(first, "@sleep")) {
            Sleep((DWORD)strtoul(rest, NULL, 10));
            continue;
        }
        if (!strcmp(first, "@timeout")) {
            timeout_ms = (DWORD)strtoul(rest, NULL, 10);
            continue;
        }
        if (!strcmp(first, "@end")) break;
        if (first[0] == '@') die("%s: unknown directive: %s", path, line);
        /* PROC ID [start|finish [MS]] COMMAND ... [>VAR=FIELD] */
        struct child *c = child_named(first);
        char *id = strtok_r(NULL, " ", &save);
        char *command = save;
        if (!c || !id || !command || !*command) die("%s: bad line: %s", path, line);
        char capture[NAME_LEN] = "", field[NAME_LEN] = "";
        char *gt = strstr(command, " >");
        if (gt) {
            char *eq = strchr(gt + 2, '=');
            if (eq) {
                *eq = 0;
                copy_name(capture, gt + 2);
                copy_name(field, eq + 1);
            }
            *gt = 0;
        }
        if (!strncmp(command, "finish", 6) && (command[6] == 0 || command[6] == ' ')) {
            DWORD wait = command[6] ? (DWORD)strtoul(command + 7, NULL, 10) : timeout_ms;
            collect(c, answer, sizeof answer, wait);
        } else if (!strncmp(command, "start ", 6)) {
            substitute(command + 6, sub, sizeof sub);
            snprintf(answer, sizeof answer, "%s", send_line(c, sub) ? "STARTED" : "SKIPPED gone");
        } else {
            substitute(command, sub, sizeof sub);
            if (send_line(c, sub))
                collect(c, answer, sizeof answer, timeout_ms);
            else
                snprintf(answer, sizeof answer, "SKIPPED gone");
            if (!strncmp(answer, "TIMEOUT", 7)) c->gone = 1;
        }
        if (capture[0]) {
            char value[LINE_MAX_LEN];
            if (reply_field(answer, field, value, sizeof value)) set_var(capture, value);
        }
        fprintf(out, "%s => %s\n", line, answer);
        fflush(out);
    }
    fclose(f);
    for (int i = 0; i < nchildren; i++) send_line(&children[i], "quit");
    for (int i = 0; i < nchildren; i++) {
        if (WaitForSingleObject(children[i].process, 2000) != WAIT_OBJECT_0)
            TerminateProcess(children[i].process, 1);
        CloseHandle(children[i].process);
    }
    fprintf(out, "end\n");
    fflush(out);
    if (out != stdout) fclose(out);
    return 0;
}

int main(int argc, char **argv)
{
    WSADATA wsa;
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    if (WSAStartup(MAKEWORD(2, 2), &wsa)) die("WSAStartup failed");
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "--run"))
        return coordinator_main(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc >= 2 && !strcmp(argv[1], "--child")) return child_main();
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("%s interp=%s\n", system_description(), INTERP_VERSION);
        return 0;
    }
    fprintf(stderr,
            "usage: %s --run SCRIPT [TRANSCRIPT]   (run a script; the transcript goes to\n"
            "                                        TRANSCRIPT, or to standard output)\n"
            "       %s --child                     (one process; commands on stdin)\n"
            "       %s --version\n",
            argv[0], argv[0], argv[0]);
    return 2;
}
