package admin

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawClient is an HTTP client whose connections leave from src (another
// 127.0.0.0/8 address plays another machine) and that does not follow
// redirects; every request opens a new connection.
func rawClient(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 30 * time.Second,
	}
}

// loginAttempt is one login form fetched and ready to post: its cookie
// and token, as a browser (or a guessing script) holds them.
type loginAttempt struct {
	c      *http.Client
	base   string
	header http.Header
	cookie *http.Cookie
	token  string
}

func prepareLogin(t *testing.T, c *http.Client, base string, header http.Header) *loginAttempt {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/login", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindStringSubmatch(string(body))
	cookies := res.Cookies()
	if m == nil || len(cookies) == 0 {
		t.Fatalf("login page without a form token or cookie: %d", res.StatusCode)
	}
	return &loginAttempt{c: c, base: base, header: header, cookie: cookies[0], token: m[1]}
}

// post sends the form; it returns the status and the Location.
func (l *loginAttempt) post(user, password, next string) (int, string, error) {
	form := url.Values{"csrf": {l.token}, "username": {user}, "password": {password}}
	if next != "" {
		form.Set("next", next)
	}
	req, _ := http.NewRequest("POST", l.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range l.header {
		req.Header[k] = v
	}
	req.AddCookie(l.cookie)
	res, err := l.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location"), nil
}

func (l *loginAttempt) mustPost(t *testing.T, user, password string) int {
	t.Helper()
	code, _, err := l.post(user, password, "")
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestFortyParallelGuessesGetOnlyTheBudgetChecked(t *testing.T) {
	o := newOffice(t)
	c := rawClient("127.0.0.2")
	const n = 40
	attempts := make([]*loginAttempt, n)
	for i := range attempts {
		attempts[i] = prepareLogin(t, c, o.http.URL, nil)
	}
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], _, _ = attempts[i].post("root", "guess-number-"+id(int64(i)), "")
		}()
	}
	close(start)
	wg.Wait()
	checked, refused := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusUnauthorized:
			checked++ // the password was compared, and wrong
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Errorf("unexpected answer %d", c)
		}
	}
	// The budget is 5 per user and address: before the fix every one of
	// the 40 reached bcrypt.
	if checked != 5 || refused != n-5 {
		t.Fatalf("%d passwords checked, %d refused; want 5 and %d", checked, refused, n-5)
	}
	// The right password from that address is refused as well now.
	if code := prepareLogin(t, c, o.http.URL, nil).mustPost(t, "root", o.passwords["root"]); code != http.StatusTooManyRequests {
		t.Errorf("right password from the guessing address: %d, want 429", code)
	}
}

func TestLoginRedirectsOnlyWithinThisSite(t *testing.T) {
	o := newOffice(t)
	base, _ := url.Parse(o.http.URL)
	hostile := []string{
		"/\t/evil.example/", // the reported one: next=/%09/evil.example/
		"/\n/evil.example/",
		"/\r\n/evil.example/",
		"//evil.example/",
		"///evil.example/",
		"/\\evil.example/",
		"\\\\evil.example/",
		"/\\/evil.example/",
		"https://evil.example/",
		"http:evil.example",
		"//user@evil.example",
		"javascript:alert(1)",
		"\t//evil.example/",
		" //evil.example/",
		"/%2F/evil.example/",
		"/\u3000/evil.example/",
		"evil.example",
		"/login?next=//evil.example",
	}
	c := rawClient("127.0.0.1")
	for _, next := range hostile {
		code, loc, err := prepareLogin(t, c, o.http.URL, nil).post("root", o.passwords["root"], next)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusSeeOther {
			t.Fatalf("next=%q: login answered %d", next, code)
		}
		// Resolve it as a browser would, after stripping what browsers
		// strip from a URL.
		cleaned := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
		u, err := base.Parse(cleaned)
		if err != nil || u.Host != base.Host || strings.Contains(loc, "evil") {
			t.Errorf("next=%q: redirected to %q", next, loc)
		}
	}
	// A path of this site is kept, query and all.
	code, loc, _ := prepareLogin(t, c, o.http.URL, nil).post("root", o.passwords["root"], "/extensions?tenant=1")
	if code != http.StatusSeeOther || loc != "/extensions?tenant=1" {
		t.Errorf("local next: %d %q", code, loc)
	}
}

func TestAGuesserLocksOutOnlyItselfWithGrowingLocks(t *testing.T) {
	o := newOffice(t)
	attacker := rawClient("127.0.0.2")
	guess := func() int {
		return prepareLogin(t, attacker, o.http.URL, nil).mustPost(t, "root", "not-the-password")
	}
	for i := 0; i < 5; i++ {
		if code := guess(); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := guess(); code != http.StatusTooManyRequests {
		t.Fatalf("sixth guess: %d, want locked", code)
	}
	// The well-known "root" is not locked for its owner at another address.
	owner := rawClient("127.0.0.1")
	if code := prepareLogin(t, owner, o.http.URL, nil).mustPost(t, "root", o.passwords["root"]); code != http.StatusSeeOther {
		t.Fatalf("the real admin from its own address: %d, want logged in", code)
	}
	// Backoff: the first lock lasts a minute, the next one two.
	o.now.Advance(61 * time.Second)
	for i := 0; i < 5; i++ {
		if code := guess(); code != http.StatusUnauthorized {
			t.Fatalf("after the first lock, guess %d: %d", i, code)
		}
	}
	o.now.Advance(61 * time.Second)
	if code := guess(); code != http.StatusTooManyRequests {
		t.Fatalf("61 s into the second lock: %d, want still locked", code)
	}
	o.now.Advance(60 * time.Second)
	if code := guess(); code != http.StatusUnauthorized {
		t.Fatalf("after the second lock: %d, want the guess checked", code)
	}
}

func TestBehindATrustedProxyTheClientAddressAndTLSAreThoseOfTheClient(t *testing.T) {
	proxy := netip.MustParsePrefix("127.0.0.3/32")
	o := newOffice(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{proxy} })
	viaProxy := rawClient("127.0.0.3")
	through := func(client string) http.Header {
		// A client's own X-Forwarded-For comes first; the proxy appends
		// the address it saw.
		return http.Header{"X-Forwarded-For": {"203.0.113.99, " + client}, "X-Forwarded-Proto": {"https"}}
	}
	for i := 0; i < 5; i++ {
		prepareLogin(t, viaProxy, o.http.URL, through("192.0.2.66")).mustPost(t, "root", "wrong-guess")
	}
	if code := prepareLogin(t, viaProxy, o.http.URL, through("192.0.2.66")).mustPost(t, "root", o.passwords["root"]); code != http.StatusTooManyRequests {
		t.Errorf("the guesser behind the proxy: %d, want locked", code)
	}
	// Everyone else comes through the same proxy and is not the guesser.
	l := prepareLogin(t, viaProxy, o.http.URL, through("192.0.2.10"))
	if !l.cookie.Secure || !strings.HasPrefix(l.cookie.Name, "__Host-") {
		t.Errorf("login cookie behind an https proxy: %+v", l.cookie)
	}
	if code := l.mustPost(t, "root", o.passwords["root"]); code != http.StatusSeeOther {
		t.Errorf("the admin behind the proxy: %d, want logged in", code)
	}
	// From anywhere else the headers are the client's own words and are
	// ignored: a guesser cannot rotate its address by writing them.
	direct := rawClient("127.0.0.4")
	for i := 0; i < 5; i++ {
		prepareLogin(t, direct, o.http.URL, http.Header{"X-Forwarded-For": {"198.51.100." + id(int64(i))}}).mustPost(t, "root", "wrong-guess")
	}
	l = prepareLogin(t, direct, o.http.URL, http.Header{"X-Forwarded-For": {"198.51.100.200"}, "X-Forwarded-Proto": {"https"}})
	if l.cookie.Secure {
		t.Error("an untrusted X-Forwarded-Proto made the cookie Secure")
	}
	if code := l.mustPost(t, "root", o.passwords["root"]); code != http.StatusTooManyRequests {
		t.Errorf("guesser writing its own X-Forwarded-For: %d, want locked", code)
	}
}
