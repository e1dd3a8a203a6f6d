package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dockerCredentials are the person's credentials for one registry, from the
// Docker config file.
type dockerCredentials struct {
	username, password string
	file               string // where they came from, for messages
	// helper names the credential helper holding them instead, when the
	// config file has no "auths" entry for the registry.
	helper string
}

// dockerConfig is the part of ~/.docker/config.json Tapedeck reads.
type dockerConfig struct {
	Auths map[string]struct {
		Auth     string `json:"auth"`
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

// loadDockerCredentials returns the credentials for registry from the Docker
// config at path ("" for the default place), or nil when there are none.
func loadDockerCredentials(path, registry string) (*dockerCredentials, error) {
	if path == "" {
		if d := os.Getenv("DOCKER_CONFIG"); d != "" {
			path = filepath.Join(d, "config.json")
		} else if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, ".docker", "config.json")
		} else {
			return nil, nil
		}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry credentials: %w", err)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("read registry credentials from %s: not valid JSON: %w", path, err)
	}
	want := normalizeRegistry(registry)
	for key, a := range cfg.Auths {
		if normalizeRegistry(key) != want {
			continue
		}
		creds := &dockerCredentials{username: a.Username, password: a.Password, file: path}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("read registry credentials from %s: the \"auth\" for %s is not base64: run `docker login %s` again", path, key, registry)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("read registry credentials from %s: the \"auth\" for %s is not user:password: run `docker login %s` again", path, key, registry)
			}
			creds.username, creds.password = user, pass
		}
		if creds.username != "" {
			return creds, nil
		}
	}
	if h := cfg.CredHelpers[registry]; h != "" {
		return &dockerCredentials{file: path, helper: "docker-credential-" + h}, nil
	}
	if cfg.CredsStore != "" {
		return &dockerCredentials{file: path, helper: "docker-credential-" + cfg.CredsStore}, nil
	}
	return nil, nil
}

// normalizeRegistry makes "https://index.docker.io/v1/", "docker.io" and
// "registry-1.docker.io" one key, and strips schemes and paths elsewhere.
func normalizeRegistry(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(s), "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "index.docker.io", "registry-1.docker.io", "docker.io":
		return "docker.io"
	}
	return s
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
