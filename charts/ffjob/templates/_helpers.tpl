{{/* fullname: the release name, unless it already contains the chart name. */}}
{{- define "ffjob.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ffjob.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "ffjob.labels" -}}
{{ include "ffjob.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ffjob
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ffjob.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ffjob.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* watchNamespace: the one namespace watched, or "" for all. */}}
{{- define "ffjob.watchNamespace" -}}
{{- if .Values.watchNamespace -}}
{{- .Values.watchNamespace -}}
{{- else if eq .Values.rbac.scope "Namespace" -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/*
jobRules: what the operator does to jobs and the objects they own, exactly the list at the
top of operator/main.ts (test/chart checks the two agree).
*/}}
{{- define "ffjob.jobRules" -}}
- apiGroups: [forwardforward.dev]
  resources: [forwardforwardjobs]
  verbs: [get, list, watch, delete]
- apiGroups: [forwardforward.dev]
  resources: [forwardforwardjobs/status]
  verbs: [get, patch, update]
- apiGroups: [forwardforward.dev]
  resources: [forwardforwardjobs/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [list, watch, create, patch]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [create, patch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [create, patch]
{{- end -}}
